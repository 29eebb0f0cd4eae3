#!/usr/bin/env bash
# The official-statements worked example (issue 18), end to end on the real folders in
# ../shared/data/official-statements. Not a test: it takes about an hour on 2 CPU cores.
# Usage: bash benchmarks/official.sh [TASKS]      (default: "framing sentiment stance")
# Writes runs to experiments/, reports to reports/official-*/, and the sampling frame (which
# holds the text) to build/official/, never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
TASKS=${1:-framing sentiment stance}
DATA=../shared/data/official-statements
B=build/official
mkdir -p "$B"
step() { local name=$1; shift; echo "== $name: $*"; /usr/bin/time -f "$name: %e s wall, peak RSS %M KB" "$@"; }

# 1. The sample again from one command: it must be the committed one, byte for byte.
rm -f "$B/sample.csv" "$B/frame.parquet"
step sample $PY -m stance.annotate sample "$DATA" --config configs/official.yaml --per-outlet 200 --seed 20220224 \
    --from 2022-02-24 --to 2022-06-24 --out "$B/sample.csv" --frame-out "$B/frame.parquet"
cmp "$B/sample.csv" stance/data/official/sample.csv && echo "sample: identical to stance/data/official/sample.csv"

newest() {  # newest complete run of a config name for a task and split grouping
  ls -td experiments/$1-*/ 2>/dev/null | while read -r d; do
    [ -f "$d/metrics.json" ] && grep -q "^task: $2$" "$d/config.yaml" && grep -q "group_by: $3$" "$d/config.yaml" \
      && echo "${d%/}"; done | head -1
}

for TASK in $TASKS; do
  # 2. Models on the gold set, cross-validated by story cluster, compared on the same folds. The
  #    slow SetFit and fine-tuned MiniLM are trained for framing only (2 CPU cores).
  MODELS=tfidf,emb; [ "$TASK" = framing ] && MODELS=tfidf,emb,setfit,minilm
  step "compare-$TASK" $PY -m stance.compare configs/official-compare.yaml --set task=$TASK --models $MODELS \
      --out "reports/official-compare-$TASK"
  # 3. Train on two publishers, test on the third, against the same untuned models (no
  #    validation part: two publishers leave no third to tune on) cross-validated by story cluster.
  U="--set models.tfidf.tune={} --set models.emb.tune={} --set split.val_size=0"
  step "untuned-$TASK" $PY -m stance.compare configs/official-compare.yaml --set task=$TASK --models tfidf,emb $U \
      --out "reports/official-untuned-$TASK"
  step "cross-$TASK" $PY -m stance.compare configs/official-compare.yaml --set task=$TASK --models tfidf,emb $U \
      --set split.group_by=outlet --set split.folds=3 --out "reports/official-cross-$TASK"
done

# 4. The known-groups validity check: predict every eligible paragraph of the common period (the
#    sampling frame) with the configs/official.yaml TF-IDF run, then report per publisher with
#    the gold sample as the calibration set (PACC) and as the audit sample (PPI, design-weighted).
for TASK in framing sentiment; do
  step "train-$TASK" $PY -m stance.train configs/official.yaml --set task=$TASK --quiet
  RUN=$(newest official $TASK cluster)
  rm -rf "$B/pred-$TASK" "reports/official-validity-$TASK"
  step "predict-$TASK" $PY -m stance.predict "$RUN" "$B/frame.parquet" --out "$B/pred-$TASK" --quiet
  step "report-$TASK" $PY -m stance.report "$RUN" --predictions "$B/pred-$TASK" \
      --audit "stance/data/official/audit-$TASK.csv" --out "reports/official-validity-$TASK" --quiet
  # The independent check: PPI on one half of each publisher's sample, the other half held out.
  $PY benchmarks/official_validity.py "reports/official-validity-$TASK" $TASK --write-halves "$B/halves-$TASK"
  rm -rf "$B/report-half-$TASK"
  $PY -m stance.report "$RUN" --predictions "$B/pred-$TASK" --audit "$B/halves-$TASK/audit-half-a.csv" \
      --out "$B/report-half-$TASK" --quiet
  $PY benchmarks/official_validity.py "reports/official-validity-$TASK" $TASK \
      --half-report "$B/report-half-$TASK" --half-audit "$B/halves-$TASK/audit-half-a.csv"
done

# 5. What a change of source costs, per publisher (the untuned runs against the cross runs).
pairs=()
for TASK in $TASKS; do
  for KIND in tfidf emb; do
    own=$(ls -td experiments/official-cmp-$KIND-*/ | while read -r d; do grep -q "^task: $TASK$" "$d/config.yaml" \
          && grep -q "group_by: cluster$" "$d/config.yaml" && grep -q "tune: {}" "$d/config.yaml" && echo "${d%/}"; done | head -1)
    cross=$(ls -td experiments/official-cmp-$KIND-*/ | while read -r d; do grep -q "^task: $TASK$" "$d/config.yaml" \
          && grep -q "group_by: outlet$" "$d/config.yaml" && echo "${d%/}"; done | head -1)
    pairs+=("$own" "$cross")
  done
done
$PY benchmarks/official_cross.py "${pairs[@]}"

#!/usr/bin/env bash
# One machine, N paragraphs: ingest (sharded) -> predict (TF-IDF) -> report, with wall time and
# peak RSS of each step. Usage: bash benchmarks/million.sh RUN_DIR [N] [SHARD_ROWS]
#   bash benchmarks/million.sh experiments/base-<hash> 1000000 50000
# The synthetic corpus is generated first (not timed) under build/bench/, never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=$1; N=${2:-1000000}; SHARD=${3:-50000}
D=build/bench/million-$N
rm -rf "$D"; mkdir -p "$D"
.venv/bin/python benchmarks/synthetic.py "$N" --out "$D/gen"
rm "$D/gen/labelled.jsonl"  # only the unlabelled paragraph table is the input here
step() { local name=$1; shift; /usr/bin/time -f "$name: %e s wall, peak RSS %M KB" "$@" > "$D/$name.log" 2> "$D/$name.time" || { cat "$D/$name.log" "$D/$name.time"; exit 1; }; tail -1 "$D/$name.time"; }
step ingest .venv/bin/python -m stance.corpus "$D/gen/paragraphs.parquet" --out "$D/ing" --shard-rows "$SHARD"
step predict .venv/bin/python -m stance.predict "$RUN" "$D/ing/paragraphs" --out "$D/pred" --quiet --batch-size 5000
step report .venv/bin/python -m stance.report "$RUN" --predictions "$D/pred" --out "$D/report"
du -sh "$D/gen" "$D/ing" "$D/pred" "$D/report"

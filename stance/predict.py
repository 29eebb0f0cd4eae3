"""`python -m stance.predict RUN CORPUS --out DIR`: label a corpus with a trained run's model.

The corpus is read and predicted in batches, and each batch is written as its own Parquet part
(`DIR/parts/part-000000.parquet`, ...), so memory does not grow with the corpus when it is a
Parquet table (e.g. `paragraphs.parquet` from `stance.corpus`), which is streamed; other inputs
are ingested first. `DIR/manifest.json` records the run, the corpus fingerprint and the batches
done; after an interruption `--resume` continues with the first missing batch, and no row is
written twice or dropped. Read the result with `pandas.read_parquet("DIR/parts")`.

One row per paragraph (framing, sentiment) or, for stance, per (paragraph, target) pair the
data name, exactly the pairs evaluation would score: each row's target in a target table
(data.columns.target), the actors a stance column of mappings names, or else every schema actor
a paragraph mentions. Columns: paragraph_id, doc_id, outlet, date, cluster_id, target, pred,
prob_<class>..., and for stance `target_seen`: whether the run's model was trained on labels
for that target (a prediction for an actor it never saw labelled is a guess from other
actors; the command warns with counts). Paragraphs and pairs left out are counted by reason in
the manifest and the summary. FILE is read with the run's `data` section; `--set data.KEY=VALUE`
changes how (another text column, another label mapping), as in stance.evaluate.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from stance import files
from stance.annotate.examples import has_explicit_targets, names_pairs, prediction_examples
from stance.config import TrainConfig
from stance.corpus.actors import Gazetteer
from stance.corpus.ingest import ingest
from stance.corpus.normalize import clean
from stance.corpus.tables import paragraph_target_problem
from stance.errors import StanceError, cli_entry
from stance.models import load_model
from stance.progress import bar as progress_bar, set_quiet
from stance.runs import (acquire_lock, check_unlocked, file_sha256, model_hashes, now, read_complete_record,
                         read_run_config, release_lock, resolve_run)
from stance.train import aligned_proba

FEATURES = ["text", "target", "target_spans"]
KEEP = ["paragraph_id", "doc_id", "outlet", "date", "cluster_id", "target"]


def load_run_model(run_dir: Path, overrides: list[str] | None = None) -> tuple[TrainConfig, dict[str, Any], Any]:
    """The run's config (with `--set data.*` overrides: how new data is read), record and the
    model that labels new data (a `FoldEnsemble`: the first fit, or every repeat-0 fold of a
    cross-validated run), every model file checked against the SHA-256 that run.json recorded
    when the run was written."""
    from stance.evaluate import check_data_overrides

    record = read_complete_record(run_dir)
    check_data_overrides(list(overrides or []))
    cfg = read_run_config(run_dir, record, list(overrides or []) or None)
    classes = cfg.label_schema.classes_for(cfg.task)
    primary, hashes = record.get("primary_model"), record.get("model_files")
    if not primary or not isinstance(hashes, dict):
        raise StanceError(f"{run_dir / 'run.json'}: made by an older stance that recorded no model hashes "
                          "(and saved models as pickles, which run code when loaded); train the run again")
    folders = predicting_models(cfg, record)
    return cfg, record, FoldEnsemble([checked_model(run_dir, folder, hashes) for folder in folders], classes)


def trained_targets(run_dir: Path, cfg: TrainConfig, record: dict[str, Any]) -> set[str] | None:
    """The stance targets the predicting models were trained on labels for (their union), from
    each model's model.json; None for a run made before stance recorded them."""
    if cfg.task != "stance":
        return None
    seen: set[str] = set()
    for folder in predicting_models(cfg, record):
        meta = files.read_json(run_dir / folder / "model.json", "the model description")
        if not isinstance(meta, dict) or not isinstance(meta.get("train_targets"), dict):
            return None
        seen |= set(meta["train_targets"])
    return seen


def predicting_models(cfg: TrainConfig, record: dict[str, Any]) -> list[str]:
    """Run-relative folders of the models that label new data (see `ensemble_units`)."""
    units = ensemble_units(cfg, record)
    return [record["models"][u] for u in units] if len(units) > 1 else [record["primary_model"]]


def model_file_hashes(record: dict[str, Any], folders: list[str]) -> dict[str, str]:
    """The run.json hashes of every file in the given model folders: what a prediction used."""
    prefixes = tuple(folder.rstrip("/") + "/" for folder in folders)
    return {k: v for k, v in (record.get("model_files") or {}).items() if k.startswith(prefixes)}


def checked_model(run_dir: Path, folder: str, hashes: dict[str, str]) -> Any:
    """One saved model of the run, loaded only if its files match the hashes in run.json."""
    try:
        expected = model_hashes({"model_files": hashes}, folder)
    except StanceError as exc:
        raise StanceError(f"{run_dir}/{exc}") from None
    return load_model(run_dir / folder, expected=expected)


def ensemble_units(cfg: TrainConfig, record: dict[str, Any]) -> list[str]:
    """The fits that label new data: for a cross-validated run every fold of repeat 0 with the
    first model seed (the same fits whose out-of-fold predictions are the report's calibration
    set), else the first fit alone."""
    if cfg.split.method != "kfold":
        return [Path(record["primary_model"]).parent.name]
    first_seed = record["seeds"][0]
    return [u for u in record.get("models", {}) if u.startswith("r0-") and u.endswith(f"-s{first_seed}")]


class FoldEnsemble:
    """Averages the probabilities of one or more fitted models over the schema's classes.

    Each member's output is aligned to `classes` first (0 for a class the member never saw), so
    the columns never depend on which classes a fold happened to see."""

    def __init__(self, models: list[Any], classes: list[str]):
        self.models = models
        self.classes_ = np.asarray(classes)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        classes = [str(c) for c in self.classes_]
        return np.mean([aligned_proba(m, X, classes) for m in self.models], axis=0)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def corpus_fingerprint(path: Path) -> str:
    if path.is_file():
        return file_sha256(path)
    digest = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        digest.update(f"{p.relative_to(path)}\0{file_sha256(p)}\n".encode())
    return digest.hexdigest()


def paragraph_shards(path: Path) -> list[Path]:
    """The Parquet paragraph table(s) at `path`: one file from stance.corpus, or the folder of
    shards that `stance.corpus --shard-rows` writes; [] for anything else."""
    shards = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    if not shards or any(p.suffix.lower() != ".parquet" or not p.is_file() for p in shards):
        return []
    try:
        names = [set(pq.ParquetFile(p).schema_arrow.names) for p in shards]
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        bad = next((p for p in shards if not _readable_parquet(p)), shards[0])
        raise StanceError(f"{bad}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    if not all({"paragraph_id", "text"} <= n for n in names):
        return []
    return shards


def _readable_parquet(path: Path) -> bool:
    try:
        pq.ParquetFile(path)
        return True
    except (OSError, ValueError):
        return False


def complete_columns(frame: pd.DataFrame, gazetteer: Gazetteer) -> pd.DataFrame:
    """A plain paragraph table (only ids and text) gets its actor mentions and empty metadata."""
    if "actors" not in frame:
        frame["actors"] = [gazetteer.actors_in(str(t)) for t in frame["text"]]
    for column in ("doc_id", "outlet", "date", "cluster_id"):
        if column not in frame:
            frame[column] = None
    return frame


def check_table_targets(batch: pd.DataFrame, cfg: TrainConfig, source: Path) -> pd.DataFrame:
    """A paragraph table's target rows checked as ingest checks a table's (integer offsets, not
    booleans, that point at the target in the paragraph's text, normalised alike): a Parquet
    paragraph table may have been made by other code than stance.corpus. Returns `batch`, its
    targets normalised as ingest normalises a table's (`AT&amp;T` -> `AT&T`), so a model sees
    the target as it saw its training targets."""
    if cfg.task != "stance" or not {"target", "target_start", "target_end"} <= set(batch.columns):
        return batch
    ignore_case = cfg.data.target_match != "exact"
    for row in batch[["paragraph_id", "text", "target", "target_start", "target_end"]].itertuples(index=False):
        if pd.isna(row.target) or (pd.isna(row.target_start) and pd.isna(row.target_end)):
            continue  # no target, or one that is not mentioned (data.target_match: none)
        problem = paragraph_target_problem(str(row.text), row.target, row.target_start, row.target_end, ignore_case)
        if problem:
            raise StanceError(f"{source}: paragraph {row.paragraph_id}: {problem}")
    batch["target"] = [t if pd.isna(t) else clean(str(t)) for t in batch["target"]]
    return batch


def pairs_apply(cfg: TrainConfig, explicit: bool, corpus: Path, pairs: str) -> None:
    """Refuse `--pairs mentions` where it would be silently ignored: a run that predicts one
    label per paragraph, or a corpus that names each row's own target."""
    if pairs != "mentions":
        return
    if cfg.task != "stance":
        raise StanceError(f"--pairs mentions: chooses the (paragraph, actor) pairs of a stance run; this run's task "
                          f"is {cfg.task} (one prediction per paragraph): leave --pairs out")
    if explicit:
        raise StanceError(f"--pairs mentions: {corpus} names a target in each row (a target column, "
                          "data.columns.target or data.targets), and that target is what is predicted; --pairs "
                          "chooses only between the actors a stance column names and the schema actors mentioned")


def any_shard(shards: list[Path], column: str, test: Callable[[pd.DataFrame], bool]) -> bool:
    """Whether some shard has `column` and `test` holds for it (a one-column frame), reading
    that column alone, shard by shard, until one does."""
    return any(column in pq.ParquetFile(p).schema_arrow.names
               and test(pq.read_table(p, columns=[column]).to_pandas()) for p in shards)


def paragraph_batches(cfg: TrainConfig, corpus: Path, batch_size: int,
                      pairs: str = "auto") -> tuple[int, int, Iterator[pd.DataFrame], bool]:
    """(number of paragraphs, number of batches, batches of ingested paragraphs, whether the
    corpus names its own stance pairs in a stance column: decided once for the whole corpus,
    so every batch predicts the same kind of pairs). `pairs`: see `pairs_apply`."""
    shards = paragraph_shards(corpus)
    column = cfg.data.labels.stance
    if shards:
        explicit = cfg.task == "stance" and any_shard(shards, "target", has_explicit_targets)
        pairs_apply(cfg, explicit, corpus, pairs)
        named = cfg.task == "stance" and bool(column) and any_shard(
            shards, column, lambda frame: names_pairs(frame, column))
        gazetteer = Gazetteer.from_schema(cfg.label_schema)
        sizes = [pq.ParquetFile(p).metadata.num_rows for p in shards]

        def stream() -> Iterator[pd.DataFrame]:
            for shard in shards:  # batches do not cross shards; their numbering is still fixed
                for batch in pq.ParquetFile(shard).iter_batches(batch_size=batch_size):
                    yield check_table_targets(complete_columns(batch.to_pandas(), gazetteer), cfg, shard)
        return sum(sizes), sum(-(-n // batch_size) for n in sizes), stream(), named
    # The run's column mapping applies to a new file of the same shape; it is one file, not split.
    data = cfg.data.model_copy(update={"path": str(corpus), "annotations": None, "split_files": None})
    paragraphs = ingest(data, cfg.corpus, cfg.label_schema)
    pairs_apply(cfg, cfg.task == "stance" and has_explicit_targets(paragraphs), corpus, pairs)
    named = cfg.task == "stance" and names_pairs(paragraphs, column)
    return (len(paragraphs), -(-len(paragraphs) // batch_size),
            (paragraphs.iloc[i:i + batch_size] for i in range(0, len(paragraphs), batch_size)), named)


def predict_batch(model: Any, paragraphs: pd.DataFrame, cfg: TrainConfig, named: bool | None = None,
                  seen: set[str] | None = None, skipped: dict[str, int] | None = None) -> pd.DataFrame:
    """Predictions for the pairs `paragraphs` name (see prediction_examples; `named`: the
    corpus names its pairs in a stance column, None: decided from this batch). For stance,
    `target_seen` says whether the target is in `seen`, the targets the model was trained on
    (missing when the run did not record them). Left-out paragraphs and pairs are added to
    `skipped` by reason."""
    examples = prediction_examples(paragraphs, cfg.task, cfg.label_schema, cfg.data.labels.stance, named, skipped)
    classes = [str(c) for c in model.classes_]
    # Fixed column types: every part must have the same Parquet schema, even a part whose
    # dates are all missing, or the parts cannot be read back as one table.
    out = examples[KEEP].reset_index(drop=True).astype("string")
    if cfg.task == "stance":
        out["target_seen"] = pd.array([None if seen is None else str(t) in seen for t in out["target"]],
                                      dtype="boolean")
    if examples.empty:
        out["pred"] = pd.Series(dtype="string")
        for c in classes:
            out[f"prob_{c}"] = pd.Series(dtype=float)
        return out
    proba = model.predict_proba(examples[FEATURES].reset_index(drop=True))
    out["pred"] = pd.array(np.asarray(classes)[proba.argmax(axis=1)], dtype="string")
    for k, c in enumerate(classes):
        out[f"prob_{c}"] = proba[:, k]
    return out


def batch_labeller(run_dir: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Load the run's model once; return the function labelling a batch of paragraphs (what each
    Ray worker of stance.distributed calls, with the local path's code)."""
    cfg, record, model = load_run_model(Path(run_dir))
    gazetteer = Gazetteer.from_schema(cfg.label_schema)
    seen = trained_targets(Path(run_dir), cfg, record)
    return lambda batch: predict_batch(model, complete_columns(batch, gazetteer), cfg, seen=seen)


def part_path(out: Path, index: int) -> Path:
    return out / "parts" / f"part-{index:06d}.parquet"


def open_output(out: Path, manifest: dict[str, Any], resume: bool) -> dict[str, Any]:
    path = out / "manifest.json"
    if path.is_file():
        check_unlocked(out, "a prediction")
        previous = files.read_json(path, "the prediction manifest")
        if previous.get("status") == "complete":
            raise StanceError(f"{out}: holds a complete prediction already; choose a new --out (nothing is overwritten)")
        if not resume:
            raise StanceError(f"{out}: holds an interrupted prediction; pass --resume to finish it")
        for key in ("run_id", "model_files", "corpus_fingerprint", "batch_size", "task", "data_overrides"):
            if previous.get(key, []) != manifest[key]:
                raise StanceError(f"{out}: the interrupted prediction used another {key} "
                                  f"({previous.get(key)!r}, now {manifest[key]!r}); use a new --out")
        acquire_lock(out, "a prediction")
        return previous
    if out.exists() and any(out.iterdir()):
        check_unlocked(out, "a prediction")
        raise StanceError(f"{out}: exists and is not empty; choose a new --out (nothing is overwritten)")
    if resume:
        raise StanceError(f"{out}: nothing to resume")
    files.make_dirs(out)
    acquire_lock(out, "a prediction")
    files.write_json(path, manifest)
    return manifest


def predict_corpus(run_dir: Path, corpus: Path, out: Path, batch_size: int = 2000, resume: bool = False,
                   progress: bool = True, say: Callable[..., None] = print, engine: str = "local",
                   workers: int = 2, gpus_per_worker: float = 0.0, ray_address: str | None = None,
                   overrides: list[str] | None = None, pairs: str = "auto",
                   check_pairs: bool = False) -> dict[str, Any]:
    """Label `corpus` with the run's model into `out` (see the module docstring). `pairs`
    (stance): auto, the pairs the data name (a stance column's actors where it has one); or
    mentions, every schema actor each paragraph mentions, whatever a stance column says (what a
    report on a corpus needs; a target table's rows and other tasks keep their own examples).
    `check_pairs`: refuse `pairs="mentions"` where it cannot apply (the --pairs option: a user
    who asked for it is told, rather than silently ignored; see `pairs_apply`)."""
    if batch_size < 1:
        raise StanceError("--batch-size must be at least 1")
    if not corpus.exists():
        raise StanceError(f"{corpus}: corpus not found")
    run_dir = resolve_run(run_dir)  # a config means its newest complete run
    cfg, record, model = load_run_model(run_dir, overrides)
    if check_pairs:
        pairs_apply(cfg, False, corpus, pairs)  # the task's part, before anything is read or written
    manifest = {"run": str(run_dir), "run_id": record["run_id"], "task": cfg.task,
                "model_files": model_file_hashes(record, predicting_models(cfg, record)),
                "data_overrides": list(overrides or []),
                "corpus": str(corpus), "corpus_fingerprint": corpus_fingerprint(corpus),
                "batch_size": batch_size, "classes": [str(c) for c in model.classes_],
                "status": "running", "started": now()}
    if engine == "ray":
        if resume:
            raise StanceError("--resume is for --engine local; an interrupted Ray job is redone by running it again")
        if overrides or pairs != "auto":
            raise StanceError("--set and --pairs are for --engine local; --engine ray reads Parquet paragraph tables "
                              "as stance.corpus writes them")
        if workers < 1:
            raise StanceError("--workers must be at least 1")
        from stance.distributed import predict_with_ray  # noqa: PLC0415 — Ray is an optional extra

        return predict_with_ray(run_dir, corpus, out, manifest, batch_size, workers, gpus_per_worker,
                                ray_address, progress, say, labeller=batch_labeller,
                                shards=paragraph_shards(corpus))
    if out.exists() and not out.is_dir():
        raise StanceError(f"{out}: is a file, not a folder; choose a new --out")
    new_folder = not out.exists()
    manifest = open_output(out, manifest, resume)
    try:
        return _predict_into(out, manifest, model, cfg, corpus, batch_size, progress, say,
                             trained_targets(run_dir, cfg, record), pairs, check_pairs)
    except BaseException:
        # Bad input found before the first batch was written (an unreadable corpus): leave no
        # half-made --out behind that would block the retry with the fixed input.
        if new_folder and not any((out / "parts").glob("*.parquet")):
            release_lock(out)
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        release_lock(out)


def _predict_into(out: Path, manifest: dict[str, Any], model: Any, cfg: TrainConfig, corpus: Path, batch_size: int,
                  progress: bool, say: Callable[..., None], seen: set[str] | None = None,
                  pairs: str = "auto", check_pairs: bool = False) -> dict[str, Any]:
    total, n_batches, batches, named = paragraph_batches(cfg, corpus, batch_size, pairs if check_pairs else "auto")
    named = named and pairs != "mentions"
    skipped: dict[str, int] = {}
    unseen: dict[str, int] = {}
    done = sum(part_path(out, i).is_file() for i in range(n_batches))
    if done:
        say(f"stance.predict: resuming, {done} of {n_batches} batches already written")
    rows = 0
    bar = progress_bar(total=total, desc="predict", unit="paragraph", show=progress)
    for index, batch in enumerate(batches):
        bar.update(len(batch))
        target = part_path(out, index)
        if target.is_file():
            # Written before an interruption: counted again (cheaply, no model) so the totals are whole.
            prediction_examples(batch, cfg.task, cfg.label_schema, cfg.data.labels.stance, named, skipped)
            if cfg.task == "stance" and seen is not None:
                done_part = pq.read_table(target, columns=["target", "target_seen"]).to_pandas()
        else:
            done_part = predict_batch(model, batch, cfg, named, seen, skipped)
            files.write_parquet(target, done_part)
        if cfg.task == "stance" and seen is not None:
            for name in done_part.loc[done_part["target_seen"] == False, "target"]:  # noqa: E712 — nullable
                unseen[str(name)] = unseen.get(str(name), 0) + 1
    bar.close()
    for i in range(n_batches):
        rows += pq.ParquetFile(part_path(out, i)).metadata.num_rows
    manifest.update(status="complete", finished=now(), paragraphs=total, batches=n_batches, rows=rows,
                    pairs=("named by the data" if named else "target column" if cfg.data.columns.target
                           else "schema actors mentioned") if cfg.task == "stance" else None,
                    skipped=skipped, unseen_targets=None if seen is None and cfg.task == "stance" else unseen)
    files.write_json(out / "manifest.json", manifest)
    say(f"stance.predict: {total} paragraphs -> {rows} {cfg.task} predictions in {out / 'parts'} "
        f"(model of run {manifest['run']})")
    for reason, count in sorted(skipped.items()):
        say(f"  skipped {count}: {reason}")
    if cfg.task == "stance" and seen is None:
        say("  note: this run did not record which targets it was trained on; target_seen is empty "
            "(train the run again to have unseen targets flagged)")
    elif unseen:
        listed = ", ".join(f"{t} ({n})" for t, n in sorted(unseen.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
        say(f"  WARNING: {sum(unseen.values())} of {rows} predictions are for targets the model was never trained "
            f"on labels for (target_seen = false): {listed}{' ...' if len(unseen) > 10 else ''}")
    return manifest


def read_manifest(out: Path) -> dict[str, Any]:
    if not out.is_dir():
        raise StanceError(f"{out}: predictions folder not found")
    manifest = files.read_json(out / "manifest.json", "the prediction manifest")
    if not isinstance(manifest, dict) or manifest.get("status") != "complete":
        raise StanceError(f"{out}: the prediction is not complete; finish it with stance.predict --resume")
    return manifest


def read_predictions(out: Path) -> pd.DataFrame:
    read_manifest(out)
    return files.read_parquet(out / "parts", "a prediction part")


def check_predictions_provenance(run_dir: Path, predictions_dir: Path, external: bool = False) -> dict[str, Any]:
    """Refuse predictions that `run_dir`'s model did not make, unless declared `external`.

    A report applies the run's calibration (its test-set error rates) to the predictions; on
    another model's predictions those corrections are wrong, silently. The manifest that
    stance.predict writes names the run id, task, classes and the SHA-256 of the model files;
    all must match the run. Returns the manifest.
    """
    manifest = read_manifest(predictions_dir)
    if external:
        return manifest
    record = read_complete_record(run_dir)
    cfg = read_run_config(run_dir, record)
    # Predictions carry a column for every schema class of the task (0 where a fold never saw
    # one), made by the run's predicting models: the first fit, or every fold of a CV run.
    expected = {"run_id": record.get("run_id"), "task": record.get("task"),
                "classes": [str(c) for c in cfg.label_schema.classes_for(cfg.task)],
                "model_files": model_file_hashes(record, predicting_models(cfg, record))}
    for key, want in expected.items():
        got = manifest.get(key)
        if got != want:
            shown = "the model's files" if key == "model_files" else f"{got!r}, the run's is {want!r}"
            raise StanceError(f"{predictions_dir / 'manifest.json'}: these predictions were not made by {run_dir} "
                              f"({key} differs: {shown}); run stance.predict with this run, or declare them "
                              "external predictions")
    return manifest


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stance.predict", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a run folder made by stance.train, or a config (its newest complete run)")
    parser.add_argument("corpus", help="pages folder, table, or paragraphs.parquet from stance.corpus")
    parser.add_argument("--out", required=True, help="output folder (must be new, or --resume)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="data.KEY=VALUE",
                        help="how CORPUS differs from the training data, e.g. --set data.columns.text=body "
                             "(repeatable; data.* only)")
    parser.add_argument("--pairs", choices=["auto", "mentions"], default="auto",
                        help="stance: auto, the (paragraph, target) pairs the data name (a target column, or the "
                             "actors a stance column names), else the schema actors mentioned; mentions: every "
                             "schema actor each paragraph mentions")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--resume", action="store_true", help="finish an interrupted prediction in --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="ray: Ray Data workers, each loading the model once (pip install -e '.[distributed]')")
    parser.add_argument("--workers", type=int, default=2, help="--engine ray: parallel model replicas")
    parser.add_argument("--gpus-per-worker", type=float, default=0.0, help="--engine ray: GPUs per replica")
    parser.add_argument("--ray-address", help="--engine ray: a running cluster (auto, ray://host:10001); "
                                              "default: start Ray on this machine")
    return parser


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    set_quiet(args.quiet)
    predict_corpus(Path(args.run), Path(args.corpus), Path(args.out), args.batch_size, args.resume,
                   progress=not args.quiet, engine=args.engine, workers=args.workers,
                   gpus_per_worker=args.gpus_per_worker, ray_address=args.ray_address, overrides=args.overrides,
                   pairs=args.pairs, check_pairs=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

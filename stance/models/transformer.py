"""Fine-tuned transformer classifiers with the scikit-learn estimator API.

Training uses the Hugging Face `Trainer`: it already does checkpoints that resume exactly
(optimizer, scheduler and RNG state), early stopping, gradient accumulation, warm-up
schedules, length-grouped batches and mixed precision, so none of that is written here.
What this module adds is the task framing:

- framing and sentiment: the paragraph is the input;
- stance: one shared model reads (actor, paragraph) pairs, the actor name as the first
  segment, so every actor's examples teach the same stance head; with `target_markers` (on
  by default) the mention the label is about is also wrapped in entity-marker tokens at its
  offsets ("... <t> Russia </t> ..."; every mention of a schema actor in a paragraph), two
  special tokens added to the tokenizer whose embeddings are trained with the rest of the
  model (entity markers, Baldini Soares et al. 2019, "Matching the Blanks"), so two
  mentions of one name in a sentence are two different inputs; a long paragraph is cut to
  a window centred on the marked mention rather than at its head, so it is never
  truncated away;
- class weights ("balanced") in the loss for skewed labels;
- model selection by validation macro-F1, the metric the runs report.

torch and transformers are imported inside functions so that TF-IDF-only work does not
pay for them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from stance.errors import StanceError
from stance.models.pretrained import check_encoder
from stance.progress import enabled as progress_enabled  # the Trainer's own step bar, on a terminal

# Never reach for the Hub: models come from installed packages or local folders.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

META_FILE = "stance_model.json"
# A validation label the training data lacks: always a miss, and still counted in macro-F1.
UNSEEN_CLASS = "\x00unseen"


def quiet_transformers() -> None:
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def pick_device(preference: str) -> str:
    import torch

    available = torch.cuda.is_available()
    if preference == "cuda" and not available:
        raise StanceError("model.device: cuda was asked for but torch sees no GPU; use auto or cpu")
    return "cuda" if preference in ("auto", "cuda") and available else "cpu"


def pick_precision(preference: str, device: str) -> str:
    import torch

    if device == "cpu":
        if preference in ("fp16", "bf16"):
            raise StanceError(f"model.precision: {preference} training needs a GPU; use auto or fp32 on the CPU")
        return "fp32"
    if preference == "auto":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return preference


def check(cfg: Any) -> None:
    """The registry's check (before a run folder exists): the encoder's files, then the device
    and the precision asked for (cuda without a GPU, fp16/bf16 on the CPU). Raises StanceError."""
    check_encoder(cfg)
    pick_precision(cfg.precision, pick_device(cfg.device))


TARGET_OPEN, TARGET_CLOSE = "<t>", "</t>"


def mark_mentions(text: str, spans: Any, open_mark: str = TARGET_OPEN, close_mark: str = TARGET_CLOSE,
                  escape: bool = False) -> tuple[str, list[tuple[int, int]]]:
    """`text` with each target mention wrapped as "open mention close", and the mentions' new
    [start, end) offsets (of the mention itself, without the markers).

    Overlapping, empty and out-of-range spans are skipped (the first of two overlapping ones
    is kept). With `escape`, a marker string already in the text outside the spans is broken
    up (a space after its first character), so only our markers ever read as markers.
    """
    def plain(piece: str) -> str:
        if not escape:
            return piece
        for mark in (close_mark, open_mark):
            piece = piece.replace(mark, f"{mark[0]} {mark[1:]}")
        return piece

    ordered = sorted((int(s[0]), int(s[1])) for s in (spans if spans is not None else []))
    pieces: list[str] = []
    moved, position, length = [], 0, 0
    for start, end in ordered:
        if start < position or end > len(text) or start >= end:
            continue
        before = plain(text[position:start])
        begin = length + len(before) + len(open_mark) + 1
        marked = f"{open_mark} {text[start:end]} {close_mark}"
        pieces += [before, marked]
        length += len(before) + len(marked)
        moved.append((begin, begin + end - start))
        position = end
    pieces.append(plain(text[position:]))
    return "".join(pieces), moved


def widen(spans: list[tuple[int, int]], before: int, after: int) -> list[tuple[int, int]]:
    """Spans grown by `before` / `after` characters: a mention together with its markers."""
    return [(start - before, end + after) for start, end in spans]


def window_around_target(text: str, spans: Any, tokenizer: Any, budget: int) -> str:
    """The stretch of `text` of at most `budget` tokens centred on the target.

    Centred on all of the target's mentions when they fit in the window together, else on the
    first one; the head of the text when there is no span. `spans` are [start, end) character
    offsets into `text`; `tokenizer` must return offset mappings (a fast tokenizer).
    """
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    offsets = encoded["offset_mapping"]
    if len(offsets) <= budget:
        return text
    ordered = sorted((int(s[0]), int(s[1])) for s in spans) if spans is not None and len(spans) else []
    if not ordered:
        return text[offsets[0][0]:offsets[budget - 1][1]]

    def tokens_of(start: int, end: int) -> tuple[int, int]:
        first = next((i for i, (a, b) in enumerate(offsets) if b > start), len(offsets) - 1)
        last = next((i for i in range(len(offsets) - 1, -1, -1) if offsets[i][0] < end), first)
        return first, max(first, last)

    low, high = tokens_of(*ordered[0])
    all_high = tokens_of(*ordered[-1])[1]
    if all_high - low + 1 <= budget:
        high = all_high
    start = max(0, min((low + high + 1) // 2 - budget // 2, len(offsets) - budget))
    end = start + budget
    return text[offsets[start][0]:offsets[end - 1][1]]


def best_epoch_record(log_history: list[dict[str, Any]], epochs_planned: float,
                      best_metric: float | None, metric: str = "macro_f1") -> dict[str, Any]:
    """Which epoch's weights were kept (load_best_model_at_end keeps the first epoch with the
    highest validation macro-F1), the score of every epoch, epochs that tied with the best, and
    a warning when the best epoch is the last one trained: the model may be under-trained.

    Returns {} when there was no validation split (the last epoch is then the model).
    """
    key = f"eval_{metric}"
    scores = [(float(e["epoch"]), float(e[key])) for e in log_history if key in e]
    if not scores:
        return {}
    top = max(score for _, score in scores)
    best = next(epoch for epoch, score in scores if score == top)
    last = scores[-1][0]
    record: dict[str, Any] = {
        "best_epoch": best, "selection_metric": metric,
        "val_macro_f1_by_epoch" if metric == "macro_f1" else f"val_{metric}_by_epoch":
            {f"{epoch:g}": score for epoch, score in scores},
        "best_epoch_ties": [epoch for epoch, score in scores if score == top and epoch != best],
        "best_epoch_tie_break": "the earliest epoch (Trainer keeps the first best checkpoint)",
        "epochs_planned": float(epochs_planned), "stopped_early": last < float(epochs_planned) - 1e-9,
        "warnings": [],
    }
    if best == last and len(scores) > 1:
        record["warnings"].append(f"the best epoch ({best:g}) is the last one trained: the model may be under-trained; "
                                  "raise model.epochs")
    elif best == last:
        record["warnings"].append("only one epoch was evaluated: the best epoch could not be chosen")
    return record


def checkpoint_problem(folder: Path) -> str | None:
    """Why a Trainer checkpoint folder cannot be resumed from (a file cut short by a crash or a
    full disk), or None. Cheap: reads headers and indexes, not the tensors."""
    import zipfile

    from safetensors import safe_open

    if not (folder / "trainer_state.json").is_file():
        return "trainer_state.json is missing"
    for path in sorted(folder.iterdir()):
        try:
            if path.suffix == ".json":
                json.loads(path.read_text(encoding="utf-8"))
            elif path.suffix == ".safetensors":
                with safe_open(str(path), "pt") as handle:
                    list(handle.keys())
            elif path.suffix in (".pt", ".pth", ".bin"):
                # torch.save writes a zip archive whose index is at the end: a cut file has none.
                with zipfile.ZipFile(path) as archive:
                    archive.namelist()
        except Exception as exc:  # noqa: BLE001 — any failure to read means: not resumable
            return f"{path.name} is damaged ({type(exc).__name__})"
    if not any(folder.glob("*.safetensors")):
        return "no model weights"
    return None


def usable_checkpoint(work_dir: Path, progress: Callable[[str], None] | None = None) -> str | None:
    """The newest checkpoint in `work_dir` that is intact; damaged newer ones are removed, so a
    crash while a checkpoint was written falls back to the one before (or to a fresh fit)."""
    from transformers.trainer_utils import get_last_checkpoint

    while work_dir.is_dir():
        last = get_last_checkpoint(str(work_dir))
        if last is None:
            return None
        problem = checkpoint_problem(Path(last))
        if problem is None:
            return last
        if progress:
            progress(f"{Path(last).name}: {problem}; discarded, falling back to the checkpoint before (or the start)")
        shutil.rmtree(last)
    return None


class TransformerClassifier:
    """fit / predict / predict_proba / classes_ over a DataFrame with text (and target) columns."""

    def __init__(self, cfg: Any, task: str, seed: int):
        self.cfg = cfg
        self.task = task
        self.seed = seed

    # ------------------------------------------------------------------ inputs

    @property
    def truncation(self) -> str:
        if self.cfg.truncation != "auto":
            return self.cfg.truncation
        return "around_target" if self.task == "stance" else "head"

    @property
    def markers(self) -> bool:
        """Entity-marker tokens around the target's mentions (stance only; a run saved before
        the option existed has none)."""
        return self.task == "stance" and bool(getattr(self.cfg, "target_markers", False))

    def stance_inputs(self, X: pd.DataFrame) -> tuple[list[str], list[str]]:
        """(first segments, second segments) for stance: the target, and the paragraph with the
        target's mentions marked (target_markers) and cut to a window centred on them."""
        tokenizer, max_length = self.tokenizer_, self.cfg.max_length
        texts = [str(t) for t in X["text"]]
        targets = [str(t) for t in X["target"]]
        spans = list(X["target_spans"]) if "target_spans" in X else [None] * len(X)
        if self.markers:
            marked = [mark_mentions(text, s, escape=True) for text, s in zip(texts, spans)]
            texts = [m[0] for m in marked]
            # The window must hold the markers as well as the mention.
            spans = [widen(m[1], len(TARGET_OPEN) + 1, len(TARGET_CLOSE) + 1) for m in marked]
        if self.truncation == "around_target":
            specials = tokenizer.num_special_tokens_to_add(pair=True)
            # [CLS] target [SEP] paragraph [SEP]: the paragraph gets what the target leaves.
            texts = [window_around_target(text, s, tokenizer,
                                          max(8, max_length - len(tokenizer.tokenize(target)) - specials))
                     for text, target, s in zip(texts, targets, spans)]
        return targets, texts

    def encode(self, X: pd.DataFrame) -> dict[str, list[Any]]:
        tokenizer, max_length = self.tokenizer_, self.cfg.max_length
        if self.task != "stance":
            return dict(tokenizer([str(t) for t in X["text"]], truncation=True, max_length=max_length))
        targets, texts = self.stance_inputs(X)
        return dict(tokenizer(targets, texts, truncation="only_second", max_length=max_length))

    # ------------------------------------------------------------------ training

    def fit(self, X: pd.DataFrame, y: Any, eval_set: tuple[pd.DataFrame, Any] | None = None,
            work_dir: str | Path | None = None, progress: Callable[[str], None] | None = None,
            metric: str = "macro_f1") -> "TransformerClassifier":
        """Fine-tune on X (DataFrame: text, and target, target_spans for stance; n rows) and y
        (labels, shape (n,)). `eval_set` (X, y of the validation split) drives early stopping and
        best-model selection by `metric` (macro_f1, or f_avg: the mean F1 of favourable and
        unfavourable); checkpoints go to `work_dir` (a temporary folder, removed after, if None),
        and a later fit with the same work_dir resumes from the last usable one. `progress` gets
        one-line messages (each epoch's validation macro-F1, a resume). Returns self; sets
        classes_, model_, tokenizer_, device_, precision_, base_model_ and fit_info_ (epochs,
        steps, best epoch, speed, the Trainer's log). Raises StanceError for a missing encoder."""
        quiet_transformers()
        y = np.asarray([str(v) for v in y])
        self.classes_ = np.array(sorted(set(y)))
        index = {c: i for i, c in enumerate(self.classes_)}
        model = self._pretrained_model(index)
        train_ids = [index[c] for c in y]
        train_ds, eval_ds = self._datasets(X, train_ids, eval_set, index)
        scratch = None
        if work_dir is None:
            scratch = tempfile.mkdtemp(prefix="stance-checkpoints-")
            work_dir = scratch
        work_dir = Path(work_dir)
        trainer = self._trainer(model, train_ds, eval_ds, self._weighted_loss(train_ids), work_dir, metric, progress)
        last = usable_checkpoint(work_dir, progress)
        if last and progress:
            progress(f"resuming from {Path(last).name}")
        output = trainer.train(resume_from_checkpoint=last)
        self.model_ = trainer.model
        self.model_.eval()
        self.fit_info_ = self._fit_record(trainer.state, output.metrics, last, metric)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        return self

    def _pretrained_model(self, index: dict[str, int]) -> Any:
        """The pretrained encoder with a new classification head of len(index) classes (label
        -> id `index`), seeded by self.seed; sets device_, precision_, base_model_ and tokenizer_,
        with the target-marker tokens added to both where the task uses them."""
        import transformers
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from stance.models.pretrained import resolve_model_path

        self.device_ = pick_device(self.cfg.device)
        self.precision_ = pick_precision(self.cfg.precision, self.device_)
        self.base_model_ = str(resolve_model_path(self.cfg.model))
        transformers.set_seed(self.seed)  # the new classification head is initialised from this seed
        self.tokenizer_ = AutoTokenizer.from_pretrained(self.base_model_, trust_remote_code=False)
        model = AutoModelForSequenceClassification.from_pretrained(
            self.base_model_, trust_remote_code=False, num_labels=len(index),
            id2label={i: c for c, i in index.items()}, label2id=index)
        if self.markers:
            # New embedding rows start at the mean of the pretrained ones (mean_resizing) and
            # are trained with the model; the tokenizer never splits a special token.
            self.tokenizer_.add_tokens([TARGET_OPEN, TARGET_CLOSE], special_tokens=True)
            model.resize_token_embeddings(len(self.tokenizer_), mean_resizing=True)
        return model

    def _datasets(self, X: pd.DataFrame, train_ids: list[int], eval_set: tuple[pd.DataFrame, Any] | None,
                  index: dict[str, int]) -> tuple[Any, Any]:
        """(training, validation) `datasets.Dataset`s of token ids and label ids; the validation
        one is None without a non-empty eval_set."""
        from datasets import Dataset

        train_ds = Dataset.from_dict({**self.encode(X), "labels": train_ids})
        if eval_set is None or not len(eval_set[0]):
            return train_ds, None
        # A validation class the training data lacks cannot be a target of the loss (-100);
        # it still counts against macro-F1 (UNSEEN_CLASS in _scorer).
        eval_ds = Dataset.from_dict({**self.encode(eval_set[0]),
                                     "labels": [index.get(str(c), -100) for c in eval_set[1]]})
        return train_ds, eval_ds

    def _weighted_loss(self, train_ids: list[int]) -> Callable[..., Any]:
        """The Trainer's loss: cross-entropy summed over a batch, with class weights inversely
        proportional to the training frequencies (class_weight: balanced), divided by the labelled
        items of the whole accumulated batch; label -100 is ignored."""
        import torch
        from sklearn.utils.class_weight import compute_class_weight

        weights = None
        if self.cfg.class_weight == "balanced":
            weights = torch.tensor(compute_class_weight("balanced", classes=np.arange(len(self.classes_)),
                                                        y=np.asarray(train_ids)), dtype=torch.float32)

        def weighted_loss(outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Any:
            logits = outputs["logits"].float()
            w = weights.to(logits.device) if weights is not None else None
            total = torch.nn.functional.cross_entropy(logits, labels, weight=w, ignore_index=-100, reduction="sum")
            # Dividing by the items in the whole accumulated batch keeps gradient accumulation exact.
            denominator = num_items_in_batch if num_items_in_batch is not None else (labels != -100).sum()
            return total / torch.clamp(torch.as_tensor(denominator, device=logits.device), min=1)

        return weighted_loss

    def _scorer(self, metric: str) -> Callable[[Any], dict[str, float]]:
        """The Trainer's compute_metrics: validation macro-F1 (and f_avg when `metric` is f_avg)
        of the predicted classes against the gold labels the evaluation loop returns."""
        from sklearn.metrics import f1_score

        from stance.config import F_AVG_CLASSES

        def scores(prediction: Any) -> dict[str, float]:
            logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
            predicted = self.classes_[np.asarray(logits).argmax(axis=1)]
            # Gold labels come back with the predictions, in the order the evaluation loop used
            # (its sampler may regroup items by length): never pair them with the input order.
            ids = np.asarray(prediction.label_ids)
            gold = np.where(ids >= 0, self.classes_[np.clip(ids, 0, None)], UNSEEN_CLASS)
            out = {"macro_f1": float(f1_score(gold, predicted, average="macro", zero_division=0))}
            if metric == "f_avg":
                pair = [c for c in F_AVG_CLASSES if c in set(gold) | set(predicted)]
                out["f_avg"] = float(np.mean(f1_score(gold, predicted, labels=pair, average=None,
                                                      zero_division=0))) if pair else 0.0
            return out

        return scores

    def _trainer(self, model: Any, train_ds: Any, eval_ds: Any, loss: Callable[..., Any], work_dir: Path,
                 metric: str, progress: Callable[[str], None] | None) -> Any:
        """A `transformers.Trainer` for the config: one evaluation and checkpoint per epoch into
        `work_dir`, the best epoch by `metric` kept and early stopping when there is a validation
        set, on device_ at precision_; epoch results go to `progress`, not the console."""
        from transformers import (DataCollatorWithPadding, EarlyStoppingCallback, PrinterCallback, Trainer,
                                  TrainerCallback, TrainingArguments)

        class Report(TrainerCallback):
            def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Any = None, **kw: Any) -> None:
                if progress and metrics:
                    progress(f"epoch {state.epoch:.0f}: val macro-F1 {metrics.get('eval_macro_f1', float('nan')):.3f}")

        cfg = self.cfg
        has_eval = eval_ds is not None
        args = TrainingArguments(
            output_dir=str(work_dir), num_train_epochs=cfg.epochs, per_device_train_batch_size=cfg.batch_size,
            per_device_eval_batch_size=cfg.eval_batch_size, gradient_accumulation_steps=cfg.grad_accum,
            learning_rate=cfg.learning_rate, weight_decay=cfg.weight_decay, warmup_steps=cfg.warmup_ratio,
            lr_scheduler_type=cfg.scheduler, seed=self.seed, data_seed=self.seed,
            use_cpu=self.device_ == "cpu", bf16=self.precision_ == "bf16", fp16=self.precision_ == "fp16",
            eval_strategy="epoch" if has_eval else "no", save_strategy="epoch",
            save_total_limit=2 if has_eval else 1, load_best_model_at_end=has_eval,
            metric_for_best_model=metric if has_eval else None, greater_is_better=True,
            train_sampling_strategy="group_by_length", logging_strategy="epoch", report_to="none",
            disable_tqdm=not progress_enabled(), log_level="error", dataloader_num_workers=0)
        callbacks: list[Any] = [Report()]
        if has_eval and cfg.early_stopping_patience:
            callbacks.append(EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience))
        trainer = Trainer(model=model, args=args, data_collator=DataCollatorWithPadding(self.tokenizer_),
                          train_dataset=train_ds, eval_dataset=eval_ds, processing_class=self.tokenizer_,
                          compute_loss_func=loss, compute_metrics=self._scorer(metric) if has_eval else None,
                          callbacks=callbacks)
        trainer.remove_callback(PrinterCallback)  # epoch logs go to fit_info_ and `progress` instead
        return trainer

    def _fit_record(self, state: Any, train_metrics: dict[str, Any], resumed: str | None,
                    metric: str) -> dict[str, Any]:
        """fit_info_: device, precision, epochs run, steps, the best epoch and its score,
        training time (seconds) and speed (examples per second), and the Trainer's per-epoch log."""
        return {
            "device": self.device_, "precision": self.precision_, "base_model": self.base_model_,
            "epochs_run": float(state.epoch or 0), "steps": int(state.global_step),
            "best_val_macro_f1": state.best_metric, "resumed_from": Path(resumed).name if resumed else None,
            **best_epoch_record(state.log_history, self.cfg.epochs, state.best_metric, metric),
            "train_seconds": float(train_metrics.get("train_runtime", float("nan"))),
            "examples_per_second": float(train_metrics.get("train_samples_per_second", float("nan"))),
            "log": [entry for entry in state.log_history],
        }

    # ------------------------------------------------------------------ inference

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        import torch

        encoded = self.encode(X)
        n = len(encoded["input_ids"])
        # Sorting by length makes padded batches short; the order is restored at the end.
        order = np.argsort([len(ids) for ids in encoded["input_ids"]], kind="stable")
        device = next(self.model_.parameters()).device
        out = np.zeros((n, len(self.classes_)), dtype=np.float64)
        with torch.inference_mode():
            for begin in range(0, n, self.cfg.eval_batch_size):
                rows = order[begin:begin + self.cfg.eval_batch_size]
                batch = self.tokenizer_.pad([{k: encoded[k][i] for k in encoded} for i in rows],
                                            return_tensors="pt")
                logits = self.model_(**{k: v.to(device) for k, v in batch.items()}).logits
                out[rows] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return out

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def build(cfg: Any, task: str, seed: int) -> TransformerClassifier:
    return TransformerClassifier(cfg, task=task, seed=seed)


def save(model: TransformerClassifier, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    model.model_.save_pretrained(folder)
    model.tokenizer_.save_pretrained(folder)
    meta = {"config": model.cfg.model_dump(mode="json"), "task": model.task, "seed": model.seed,
            "classes": [str(c) for c in model.classes_], "base_model": model.base_model_}
    (folder / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")


def load(folder: Path, device: str = "auto") -> TransformerClassifier:
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from stance import files
    from stance.models.kinds import TransformerModel

    quiet_transformers()
    meta = files.read_json(folder / META_FILE, "the transformer model description")
    # A model saved before target markers existed was trained without them.
    config = {"target_markers": False, **meta["config"]}
    model = TransformerClassifier(TransformerModel.model_validate(config), meta["task"], meta["seed"])
    model.classes_ = np.array(meta["classes"])
    model.base_model_ = meta["base_model"]
    # Weights only from safetensors (pickled .bin weights run code when loaded), and never code
    # that ships with a model folder.
    if not any(folder.glob("*.safetensors")):
        raise StanceError(f"{folder}: no .safetensors weights; other weight formats are not loaded")
    model.tokenizer_ = AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
    model.model_ = AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True,
                                                                      trust_remote_code=False)
    model.device_ = pick_device(device)
    model.model_.to(model.device_).eval()
    return model

"""SetFit (`model.kind: setfit`): contrastive fine-tuning of a sentence encoder, then a head.

The `setfit` library (Tunstall et al. 2022, "Efficient Few-Shot Learning Without Prompts")
does the work: it samples same-class and different-class pairs of training inputs, fine-tunes
the encoder so that same-class inputs embed close together (cosine-similarity loss), and fits
a logistic regression on the fine-tuned vectors. This module adds what stance needs around it:

- inputs built as the embeddings kind builds them (stance.models.embeddings.build_inputs):
  for stance the actor as the first segment and/or its mentions marked at their offsets with
  plain-text markers (<< >>: setfit keeps the encoder's vocabulary, so no new special tokens
  are added), one model for every actor, and a window centred on the mentions for long
  paragraphs;
- `class_weight: balanced` in the head and balanced pair sampling (`oversampling`, the
  library's default) for skewed labels;
- evaluation with our own macro-F1 passed to the library's Trainer (its default metric would
  be fetched from the Hugging Face Hub by `evaluate`, which an offline run cannot do), and the
  head's C chosen on the validation split when `tune: {C: [...]}` is given, without
  fine-tuning the encoder again;
- files without pickle: the encoder as safetensors (sentence-transformers' own format), the
  head as npz, a JSON description. (SetFit's own save_pretrained pickles the head.)

Checkpoints: setfit's Trainer cannot resume its contrastive phase from a checkpoint, so none
are written; an interrupted run resumed with `stance.train --resume` keeps its finished fits
and refits the unfinished one.

This file is not named setfit.py so that it never shadows the library.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from stance.models.embeddings import (build_inputs, load_encoder, load_head, logreg_head, macro_f1, quiet_libraries,
                                      save_head)
from stance.models.pretrained import check_encoder
from stance.progress import enabled as progress_enabled  # setfit's own step bar, on a terminal

os.environ.setdefault("HF_HUB_OFFLINE", "1")

META_FILE = "setfit_model.json"
ENCODER_DIR = "encoder"


def _quiet() -> None:
    import datasets

    quiet_libraries()
    datasets.disable_progress_bars()
    import setfit.logging

    setfit.logging.set_verbosity_error()
    setfit.logging.disable_progress_bar()


class SetFitClassifier:
    """fit / predict / predict_proba / classes_ over a DataFrame with text (and target) columns.

    Learned attributes: classes_ (class names), model_ (setfit.SetFitModel whose head predicts
    class indices into classes_), base_model_, fit_info_.
    """

    def __init__(self, cfg: Any, task: str, seed: int):
        self.cfg = cfg
        self.task = task
        self.seed = seed

    def inputs(self, X: pd.DataFrame) -> list[str]:
        return build_inputs(X, self.task, self.model_.model_body.tokenizer, self.cfg.max_length,
                            self.cfg.target_input, self.cfg.truncation)

    def fit(self, X: pd.DataFrame, y: Any, eval_set: tuple[pd.DataFrame, Any] | None = None,
            work_dir: str | Path | None = None, progress: Callable[[str], None] | None = None,
            metric: str = "macro_f1") -> "SetFitClassifier":
        """Fine-tune the encoder on pairs of `X`, fit the head; `eval_set` scores the result
        (and picks the head's C when tune.C is given). `work_dir` holds the library's scratch
        files while it runs. `metric` is taken for the registry's one call shape: the head's C
        is chosen by validation macro-F1 whatever evaluation.metric says (not yet by F_avg)."""
        import transformers
        from datasets import Dataset
        from setfit import SetFitModel, Trainer, TrainingArguments
        from transformers import PrinterCallback, TrainerCallback

        from stance.models.pretrained import resolve_model_path
        from stance.models.transformer import pick_device

        _quiet()
        cfg = self.cfg
        y = np.asarray([str(v) for v in y])
        self.classes_ = np.array(sorted(set(y)))
        index = {c: i for i, c in enumerate(self.classes_)}
        self.base_model_ = str(resolve_model_path(cfg.model))
        device = pick_device(cfg.device)

        transformers.set_seed(self.seed)
        body = load_encoder(self.base_model_, cfg.max_length, device)
        head = logreg_head(cfg.C, cfg.class_weight, cfg.max_iter, self.seed)
        self.model_ = SetFitModel(model_body=body, model_head=head, normalize_embeddings=cfg.normalize)
        train_inputs = self.inputs(X)
        train_ds = Dataset.from_dict({"text": train_inputs, "label": [index[c] for c in y]})

        log: list[dict[str, Any]] = []

        class Report(TrainerCallback):
            def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
                if logs:
                    log.append({"step": int(state.global_step), **{k: float(v) for k, v in logs.items()
                                                                     if isinstance(v, (int, float))}})
                    if progress and "embedding_loss" in logs:
                        progress(f"step {state.global_step}/{state.max_steps}: "
                                 f"contrastive loss {logs['embedding_loss']:.4f}")

        scratch = Path(tempfile.mkdtemp(prefix="stance-setfit-"))  # nothing in it outlives the fit
        args = TrainingArguments(
            output_dir=str(scratch), batch_size=cfg.batch_size, num_epochs=cfg.epochs,
            max_steps=cfg.max_steps or -1, num_iterations=cfg.num_iterations,
            sampling_strategy=cfg.sampling_strategy, body_learning_rate=cfg.body_learning_rate,
            warmup_proportion=cfg.warmup_ratio, max_length=cfg.max_length, seed=self.seed,
            show_progress_bar=progress_enabled(), report_to="none", eval_strategy="no", save_strategy="no",
            logging_strategy="steps", logging_steps=25, logging_first_step=True)

        def our_macro_f1(predicted: Any, gold: Any) -> dict[str, float]:
            # Passed to setfit instead of the default "accuracy", which `evaluate` would fetch from the Hub.
            return {"macro_f1": macro_f1(np.asarray(gold), np.asarray(predicted))}

        trainer = Trainer(model=self.model_, args=args, train_dataset=train_ds, metric=our_macro_f1,
                          callbacks=[Report()])
        trainer.st_trainer.remove_callback(PrinterCallback)  # losses go to fit_info_ and `progress` instead
        trainer.st_trainer.args.dataloader_pin_memory = device != "cpu"
        started = time.perf_counter()
        try:
            trainer.train()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        trained = time.perf_counter()
        self.model_.model_body.eval()
        state = trainer.st_trainer.state
        self.fit_info_: dict[str, Any] = {
            "device": device, "base_model": self.base_model_, "contrastive_steps": int(state.global_step),
            "pairs": int(state.global_step) * cfg.batch_size, "train_seconds": round(trained - started, 3),
            "pairs_per_second": round(state.global_step * cfg.batch_size / (trained - started), 2)
            if trained > started else None, "log": log}

        if eval_set is not None and len(eval_set[0]):
            # A validation class the training data lacks is id -1: always a miss, still in macro-F1.
            val_labels = [index.get(str(c), -1) for c in eval_set[1]]
            val_ds = Dataset.from_dict({"text": self.inputs(eval_set[0]), "label": val_labels})
            grid = list(cfg.tune.get("C", []))
            if len(grid) > 1:
                self._tune_head(train_inputs, [index[c] for c in y], val_ds, grid, progress)
            self.fit_info_["val_macro_f1"] = trainer.evaluate(val_ds)["macro_f1"]
            if progress:
                progress(f"val macro-F1 {self.fit_info_['val_macro_f1']:.3f}")
        return self

    def _tune_head(self, train_inputs: list[str], train_ids: list[int], val_ds: Any, grid: list[float],
                   progress: Callable[[str], None] | None) -> None:
        """Refit the head for each C on the fine-tuned vectors; keep the best on validation
        (first on ties). The encoder is fine-tuned once, whatever the grid."""
        cfg = self.cfg
        train_vectors = self.model_.encode(train_inputs, batch_size=cfg.eval_batch_size)
        val_vectors = self.model_.encode(list(val_ds["text"]), batch_size=cfg.eval_batch_size)
        rows, best, best_score = [], None, -1.0
        for C in grid:
            head = logreg_head(float(C), cfg.class_weight, cfg.max_iter, self.seed).fit(train_vectors, train_ids)
            score = macro_f1(val_ds["label"], head.predict(val_vectors))
            rows.append({"C": float(C), "val_macro_f1": score})
            if progress:
                progress(f"head C={C}: val macro-F1 {score:.3f}")
            if score > best_score:
                best, best_score = head, score
        self.model_.model_head = best
        self.fit_info_["head_tuning"] = rows
        self.fit_info_["head_C"] = float(best.C)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """float64 (len(X), len(classes_)), columns in the order of classes_."""
        if len(X) == 0:
            return np.zeros((0, len(self.classes_)))
        proba = self.model_.predict_proba(self.inputs(X), batch_size=self.cfg.eval_batch_size, as_numpy=True)
        return np.asarray(proba, dtype=np.float64)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def check(cfg: Any) -> None:
    """The registry's check (before a run folder exists): the encoder's files and the device
    asked for. Raises StanceError."""
    from stance.models.transformer import pick_device

    check_encoder(cfg)
    pick_device(cfg.device)


def build(cfg: Any, task: str, seed: int) -> SetFitClassifier:
    return SetFitClassifier(cfg, task=task, seed=seed)


def save(model: SetFitClassifier, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    model.model_.model_body.save(str(folder / ENCODER_DIR), safe_serialization=True)
    save_head(model.model_.model_head, folder / "head.npz")
    meta = {"config": model.cfg.model_dump(mode="json"), "task": model.task, "seed": model.seed,
            "classes": [str(c) for c in model.classes_], "base_model": model.base_model_,
            "normalize_embeddings": bool(model.model_.normalize_embeddings)}
    (folder / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")


def load(folder: Path, device: str = "auto") -> SetFitClassifier:
    from setfit import SetFitModel

    from stance.models.kinds import SetFitModelConfig
    from stance.models.transformer import pick_device

    _quiet()
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    cfg = SetFitModelConfig.model_validate(meta["config"])
    model = SetFitClassifier(cfg, meta["task"], meta["seed"])
    model.classes_ = np.array(meta["classes"])
    model.base_model_ = meta["base_model"]
    body = load_encoder(folder / ENCODER_DIR, cfg.max_length, pick_device(device))
    model.model_ = SetFitModel(model_body=body, model_head=load_head(folder / "head.npz", cfg.C, cfg.max_iter),
                               normalize_embeddings=meta["normalize_embeddings"])
    return model

"""Class prevalence corrected for classifier error, with intervals that say when they cannot tell.

Counting predicted labels (classify and count, CC) is biased whenever the classifier errs
unevenly across classes: a model that over-predicts "neutral" reports too much neutral
coverage in every outlet. Adjusted classify and count (ACC) and its probabilistic version
(PACC) invert the classifier's misclassification matrix, estimated on held-out gold labels
(a run's test predictions, or any labelled calibration set). Prediction-powered inference
(PPI++, Angelopoulos et al. 2023, the `ppi_py` package) instead uses a random labelled audit
sample of the corpus itself and is valid whatever the classifier's errors.

Every estimate comes with a status:

- `not_estimable`: the data cannot give a corrected share at all (a class with fewer than
  `min_calibration` calibration items, a singular misclassification matrix, an audit sample
  with too few items of the group); the estimate is left empty and `reason` says why;
- `unreliable`: estimable, but the interval is wider than `max_width` or the group has fewer
  than `min_n` items; shown greyed, never as a finding;
- `ok`.

Intervals:

- CC: exact Clopper-Pearson interval of the predicted share (it is a plain binomial count).
- ACC, PACC: bootstrap. The misclassification matrix is re-estimated by QuaPy's own ACC/PACC
  `aggregation_fit` on resamples of the calibration set (done once per calibration set), and
  the measured items are resampled per group; each replicate is the *unclipped* solution of
  the adjustment, the percentile interval is taken and only then clipped to [0, 1]. A
  percentile interval of the clipped estimator collapses to [1, 1] at the boundary, which is
  not a 95% interval. QuaPy's AggregativeBootstrap is not used for the resampling: in 0.2.3 its
  model-based mode fails on plain arrays (`sampling_from_index` on an ndarray) and it runs one
  joblib task per replicate (about 0.1 s per group here, and 2.5 s per 10^5 items), so the
  replicates are drawn vectorised instead (multinomial counts for crisp labels; for soft
  probabilities exact resampling up to 10^6 draws, the normal approximation of the mean beyond).
- PPI: `ppi_py.ppi_mean_ci` (PPI++ with the power-tuning parameter estimated from the data).

No interval is narrower than the exact (Clopper-Pearson) interval of a share observed on the
group's n items: the data never determine a share more precisely than counting n items would.

BayesianCC (QuaPy) needs jax, numpyro and pystan (`quapy[bayes]`), which are not installed;
it is not offered.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from scipy import stats as scipy_stats
from sklearn.base import BaseEstimator, ClassifierMixin

METHODS = ("CC", "ACC", "PACC")
DEFAULT_METHOD = "PACC"
OK, UNRELIABLE, NOT_ESTIMABLE = "ok", "unreliable", "not_estimable"
_RANK = {OK: 0, UNRELIABLE: 1, NOT_ESTIMABLE: 2}
MIN_AUDIT_NORMAL = 30  # PPI's interval is a normal approximation: with fewer audit items it undercovers


@dataclass(frozen=True)
class Settings:
    """When an estimate is reported, flagged or refused (defaults as in the report's options)."""

    level: float = 0.95
    n_boot: int = 300            # bootstrap replicates (calibration and group resampled together)
    min_calibration: int = 10    # calibration (or audit) items a class needs for a corrected share
    max_width: float = 0.5       # an interval wider than this is `unreliable`
    min_n: int = 20              # a group with fewer items is `unreliable`
    max_condition: float = 1e6   # condition number above which the misclassification matrix is singular
    seed: int = 0


class _Fitted(ClassifierMixin, BaseEstimator):
    """Stands in for the run's classifier: QuaPy checks the estimator API, then only reads
    `classes_`, because the predictions are passed in ready-made."""

    def __init__(self, classes: Sequence[str] = ()):
        self.classes = classes
        self.classes_ = np.asarray(classes)

    def fit(self, X, y):  # pragma: no cover - never called with fit_classifier=False
        raise RuntimeError("the classifier is already fitted")

    def predict(self, X):  # pragma: no cover
        raise RuntimeError("predictions are passed to the quantifier directly")

    predict_proba = predict


@functools.lru_cache(maxsize=8)
def _z(level: float) -> float:
    """Two-sided normal quantile (scipy's ppf costs 0.1 ms a call; differences call it thousands of times)."""
    return float(scipy_stats.norm.ppf(1 - (1 - level) / 2))


def clopper_pearson(successes: np.ndarray, n: int, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial interval for `successes` out of `n` (arrays over classes)."""
    k = np.asarray(successes, dtype=float)
    alpha = 1 - level
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, scipy_stats.beta.ppf(alpha / 2, k, n - k + 1), 0.0)
        high = np.where(k < n, scipy_stats.beta.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
    return low, high


def wilson(successes: np.ndarray, n: int, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    z = _z(level)
    p = np.asarray(successes, dtype=float) / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@dataclass
class Estimate:
    """One method's result for one group: arrays over classes (NaN where not estimable)."""

    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    status: list[str]
    reason: list[str]
    replicates: np.ndarray | None = None   # (n_boot, classes), aligned across groups by calibration resample
    se: np.ndarray | None = None           # normal-theory standard errors (PPI)
    extra: dict[str, Any] = field(default_factory=dict)


def _floor(estimate: np.ndarray, low: np.ndarray, high: np.ndarray, n: int, level: float):
    """Widen to at least the exact interval of a share seen on n items (see the module notes)."""
    cp_low, cp_high = clopper_pearson(np.round(np.clip(estimate, 0, 1) * n), n, level)
    return np.minimum(low, cp_low), np.maximum(high, cp_high)


def _flag(estimate: np.ndarray, low: np.ndarray, high: np.ndarray, n: int, settings: Settings,
          status: list[str], reason: list[str]) -> None:
    for k in range(len(estimate)):
        if status[k] != OK:
            continue
        problems = []
        if n < settings.min_n:
            problems.append(f"n = {n} < {settings.min_n}")
        if high[k] - low[k] > settings.max_width:
            problems.append(f"interval width {high[k] - low[k]:.2f} > {settings.max_width:g}")
        if problems:
            status[k], reason[k] = UNRELIABLE, "; ".join(problems)


class Quantifier:
    """ACC/PACC/CC estimates for any number of groups against one calibration set.

    `cal_true`: gold labels of the calibration items (length m); `cal_proba`: (m, classes)
    predicted probabilities, columns in the order of `classes` (one-hot rows for a classifier
    that gives labels only). Calibration resamples are drawn once, so replicate b of every
    group shares calibration resample b and differences between groups carry the calibration
    uncertainty correctly (it is common to both).
    """

    def __init__(self, classes: Sequence[str], cal_true: Sequence[str], cal_proba: np.ndarray,
                 settings: Settings = Settings()):
        from quapy.method.aggregative import ACC, PACC

        self.classes = [str(c) for c in classes]
        self.settings = settings
        k = len(self.classes)
        cal_true = np.asarray([str(c) for c in cal_true])
        cal_proba = np.asarray(cal_proba, dtype=float).reshape(len(cal_true), k)
        cal_pred = np.asarray(self.classes)[cal_proba.argmax(axis=1)] if len(cal_true) else cal_true
        self.n_calibration = np.array([(cal_true == c).sum() for c in self.classes], dtype=int)
        clf = _Fitted(self.classes)

        def fitted(kind, true, pred, proba):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if kind == "ACC":
                    q = ACC(clf, fit_classifier=False, val_split=None, solver="exact-cc", norm="clip")
                    q.aggregation_fit(pred, true)
                else:
                    q = PACC(clf, fit_classifier=False, val_split=None, solver="exact-cc", norm="clip")
                    q.aggregation_fit(proba, true)
            return q

        self.full = {m: fitted(m, cal_true, cal_pred, cal_proba) for m in ("ACC", "PACC")}
        self.matrices = self._resampled_matrices(cal_true, cal_pred, cal_proba)
        # Unclipped solutions of M p = q for every resample; the pseudo-inverse equals the inverse
        # where M is regular and gives the least-squares solution where a resample made it singular.
        self.inverses = {m: np.linalg.pinv(a) for m, a in self.matrices.items()}
        # A class (nearly) absent from calibration has no estimated error rates: QuaPy then
        # assumes it is never confused (an identity column), which yields confident nonsense.
        self.base_status, self.base_reason = {}, {}
        for m in ("ACC", "PACC"):
            status, reason = [OK] * k, [""] * k
            rare = [j for j in range(k) if self.n_calibration[j] < settings.min_calibration]
            condition = np.linalg.cond(self.full[m].Pte_cond_estim_)
            if not np.isfinite(condition) or condition > settings.max_condition:
                status, reason = [NOT_ESTIMABLE] * k, [f"singular misclassification matrix (condition number "
                                                       f"{condition:.3g})"] * k
            elif rare:
                names = ", ".join(f"{self.classes[j]} ({self.n_calibration[j]})" for j in rare)
                for j in range(k):
                    if j in rare:
                        status[j] = NOT_ESTIMABLE
                        reason[j] = (f"{self.n_calibration[j]} calibration items of this class "
                                     f"(< {settings.min_calibration}): its error rates are unknown")
                    else:
                        status[j] = UNRELIABLE
                        reason[j] = f"the correction also depends on classes with too few calibration items: {names}"
            self.base_status[m], self.base_reason[m] = status, reason

    def _resampled_matrices(self, cal_true: np.ndarray, cal_pred: np.ndarray,
                            cal_proba: np.ndarray) -> dict[str, np.ndarray]:
        """Misclassification matrices of `n_boot` calibration resamples, (n_boot, k, k) per method.

        Entry (i, j) is the mean of output i over items of true class j, QuaPy's
        `getPteCondEstim` computed for every resample at once (one QuaPy fit per resample took
        1.8 s for 300 resamples; tests check the two agree); a class a resample lacks gets
        QuaPy's identity column."""
        k, m = len(self.classes), len(cal_true)
        rng = np.random.default_rng(self.settings.seed)
        weights = np.stack([np.bincount(rng.integers(0, m, m), minlength=m) for _ in range(self.settings.n_boot)])
        truth = (cal_true[:, None] == np.asarray(self.classes)[None, :]).astype(float)
        counts = weights @ truth                                         # (B, k): items per true class
        out = {}
        for name, output in (("ACC", (cal_pred[:, None] == np.asarray(self.classes)[None, :]).astype(float)),
                             ("PACC", cal_proba)):
            sums = np.einsum("bm,mi,mj->bij", weights, output, truth, optimize=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                matrices = sums / counts[:, None, :]
            empty = counts == 0
            eye = np.broadcast_to(np.eye(k), matrices.shape)
            matrices = np.where(empty[:, None, :], eye, matrices)
            out[name] = matrices
        return out

    # -- per group

    def _resampled_means(self, proba: np.ndarray, crisp: bool, rng: np.random.Generator) -> np.ndarray:
        n, k = proba.shape
        B = self.settings.n_boot
        if crisp:
            counts = np.bincount(proba.argmax(axis=1), minlength=k)
            return rng.multinomial(n, counts / n, size=B) / n
        if n * B <= 1_000_000:
            return proba[rng.integers(0, n, (B, n))].mean(axis=1)
        cov = np.cov(proba, rowvar=False) / n
        return rng.multivariate_normal(proba.mean(axis=0), cov, size=B, method="eigh")

    def estimate(self, proba: np.ndarray, seed: int = 0) -> dict[str, Estimate]:
        """Estimates for one group of items with (n, classes) probabilities `proba`."""
        s = self.settings
        proba = np.asarray(proba, dtype=float)
        n, k = proba.shape
        rng = np.random.default_rng([s.seed, seed])
        out: dict[str, Estimate] = {}
        counts = np.bincount(proba.argmax(axis=1), minlength=k)
        cc = counts / n
        low, high = clopper_pearson(counts, n, s.level)
        status, reason = [OK] * k, [""] * k
        _flag(cc, low, high, n, s, status, reason)
        cc_reps = rng.multinomial(n, cc, size=s.n_boot) / n
        out["CC"] = Estimate(cc, low, high, status, reason, replicates=cc_reps, extra={"n": n})
        tail = (1 - s.level) / 2 * 100
        for m in ("ACC", "PACC"):
            means = self._resampled_means(proba, crisp=m == "ACC", rng=rng)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                given = np.asarray(self.classes)[proba.argmax(axis=1)] if m == "ACC" else proba
                point = np.asarray(self.full[m].aggregate(given), dtype=float)
                reps = (self.inverses[m] @ means[:, :, None])[:, :, 0]
            lo = np.clip(np.nanpercentile(reps, tail, axis=0), 0, 1)
            hi = np.clip(np.nanpercentile(reps, 100 - tail, axis=0), 0, 1)
            lo, hi = np.minimum(lo, point), np.maximum(hi, point)
            lo, hi = _floor(point, lo, hi, n, s.level)
            status, reason = list(self.base_status[m]), list(self.base_reason[m])
            _flag(point, lo, hi, n, s, status, reason)
            blank = np.array([st == NOT_ESTIMABLE for st in status])
            point, lo, hi = (np.where(blank, np.nan, a) for a in (point, lo, hi))
            out[m] = Estimate(point, lo, hi, status, reason, replicates=reps, extra={"n": n})
        return out


def ppi_estimate(classes: Sequence[str], audit_true: Sequence[str], audit_proba: np.ndarray, proba: np.ndarray,
                 settings: Settings = Settings(), contrast: np.ndarray | None = None,
                 weights: np.ndarray | None = None) -> Estimate:
    """Prediction-powered (PPI++) share of each class in a group.

    `audit_true`/`audit_proba`: gold labels and predicted probabilities of a *random* labelled
    sample of the group's items; `proba`: (n, classes) probabilities of all the group's items.
    `contrast` (classes,) turns the estimand into a weighted sum of shares (e.g. +1 favourable,
    -1 unfavourable: net stance) and returns a one-element Estimate.
    `weights` (n_audit,): design weights of an audit drawn with unequal inclusion probabilities
    (1 / probability, e.g. a sample stratified by outlet estimated over all outlets); ppi_py
    normalises them to mean 1 (its `w`). None: a simple random sample.
    """
    import ppi_py

    classes = [str(c) for c in classes]
    audit_true = np.asarray([str(c) for c in audit_true])
    y = (audit_true[:, None] == np.asarray(classes)[None, :]).astype(float)
    yhat, unlabeled = np.asarray(audit_proba, dtype=float), np.asarray(proba, dtype=float)
    if contrast is not None:
        y, yhat, unlabeled = y @ contrast, yhat @ contrast, unlabeled @ contrast
        y, yhat, unlabeled = y[:, None], yhat[:, None], unlabeled[:, None]
    d = y.shape[1]
    n_audit, n = len(audit_true), len(unlabeled)
    z = _z(settings.level)
    if n_audit < settings.min_calibration:
        why = f"{n_audit} audit items in this group (< {settings.min_calibration})"
        nan = np.full(d, np.nan)
        return Estimate(nan, nan.copy(), nan.copy(), [NOT_ESTIMABLE] * d, [why] * d, se=nan.copy())
    est, low, high = np.empty(d), np.empty(d), np.empty(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(d):
            # PPI++ tunes lambda from the predictions' variance; predictions that do not vary
            # (a class the model never gives) leave it 0/0, and lambda = 1 (plain PPI) is used.
            lam = 1.0 if np.ptp(np.concatenate([yhat[:, j], unlabeled[:, j]])) == 0 else None
            est[j] = float(np.ravel(ppi_py.ppi_mean_pointestimate(y[:, j], yhat[:, j], unlabeled[:, j], lam=lam,
                                                                  w=weights))[0])
            lo, hi = ppi_py.ppi_mean_ci(y[:, j], yhat[:, j], unlabeled[:, j], alpha=1 - settings.level, lam=lam,
                                        w=weights)
            low[j], high[j] = float(np.ravel(lo)[0]), float(np.ravel(hi)[0])
    se = (high - low) / (2 * z)
    if contrast is None:
        # The rectified mean can leave [0, 1] when a class is rare and the model over-predicts
        # it; a share cannot, so the estimate is clipped like its interval, and stays inside it.
        est, low, high = np.clip(est, 0, 1), np.clip(low, 0, 1), np.clip(high, 0, 1)
        low, high = _floor(est, low, high, n, settings.level)
        # An audit holding none (or only) of a class has no variance to measure: the normal
        # interval collapses to the model's own count, however few audit items there are. The
        # labels then bound the share no tighter than the exact interval of the audit alone
        # (0 of 200: up to 1.8%, the "rule of three"), so the interval is widened to cover it.
        k = y.sum(axis=0)
        degenerate = (k == 0) | (k == n_audit)
        if degenerate.any():
            cp_low, cp_high = clopper_pearson(k, n_audit, settings.level)
            low, high = np.where(degenerate, np.minimum(low, cp_low), low), np.where(degenerate, np.maximum(high, cp_high), high)
        low, high = np.minimum(low, est), np.maximum(high, est)
    status, reason = [OK] * d, [""] * d
    if n_audit < MIN_AUDIT_NORMAL:
        status, reason = [UNRELIABLE] * d, [f"{n_audit} audit items in this group: the normal-theory interval "
                                            f"needs about {MIN_AUDIT_NORMAL} to hold its level"] * d
    _flag(est, low, high, n, settings, status, reason)
    return Estimate(est, low, high, status, reason, se=se, extra={"n_audit": n_audit, "n": n})


def worst(*statuses: str) -> str:
    return max(statuses, key=_RANK.__getitem__)


def difference(a: Estimate, b: Estimate, j: int, level: float = 0.95,
               kind: str = "bootstrap") -> tuple[float, float, float]:
    """Difference a - b of column j (a class share, or net stance), with a (level) interval.

    kind "bootstrap": percentile interval of the replicate differences (aligned replicates share
    the calibration resample); "newcombe": Newcombe's hybrid score interval for two independent
    proportions (for CC shares); "normal": from the two independent standard errors (PPI).
    """
    d = float(a.estimate[j] - b.estimate[j])
    if kind == "newcombe":
        n_a, n_b = a.extra["n"], b.extra["n"]
        pa, pb = float(np.clip(a.estimate[j], 0, 1)), float(np.clip(b.estimate[j], 0, 1))
        la, ha = wilson(pa * n_a, n_a, level)
        lb, hb = wilson(pb * n_b, n_b, level)
        return d, float(d - np.sqrt((pa - la) ** 2 + (hb - pb) ** 2)), float(d + np.sqrt((ha - pa) ** 2 + (pb - lb) ** 2))
    if kind == "bootstrap":
        reps = a.replicates[:, j] - b.replicates[:, j]
        tail = (1 - level) / 2 * 100
        return d, float(np.percentile(reps, tail)), float(np.percentile(reps, 100 - tail))
    z = _z(level)
    se = float(np.sqrt(a.se[j] ** 2 + b.se[j] ** 2))
    return d, d - z * se, d + z * se


def prevalence(classes: Sequence[str], cal_true: Sequence[str], cal_proba: np.ndarray, proba: np.ndarray,
               n_boot: int = 300, level: float = 0.95, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Prevalence of each class in the items with probabilities `proba`, by method (CC, ACC, PACC).

    Returns {method: {"estimate", "low", "high", "status", "reason"}}, arrays over `classes`.
    """
    settings = Settings(n_boot=n_boot, level=level, seed=seed)
    result = Quantifier(classes, cal_true, cal_proba, settings).estimate(np.asarray(proba, dtype=float))
    return {m: {"estimate": r.estimate, "low": r.low, "high": r.high, "status": r.status, "reason": r.reason}
            for m, r in result.items()}


def app_coverage(classes: Sequence[str], y: Sequence[str], proba: np.ndarray, calibration_size: int,
                 sample_size: int, reps: int, seed: int = 0, audit_size: int | None = None,
                 settings: Settings = Settings(n_boot=200), kdey: int = 0) -> "pd.DataFrame":
    """Validity of every method under the artificial-prevalence protocol (APP).

    From a pool of labelled items with out-of-sample probabilities (`y`, `proba` (n, classes)),
    each replicate draws a calibration set of `calibration_size` items at random (the pool's
    own class shares), then a target sample of `sample_size` items from the rest, without
    replacement, whose class shares are drawn uniformly from the simplex (Dirichlet(1); where a
    class has too few items left the others fill the sample), and estimates them with CC, ACC,
    PACC, PPI (an audit of `audit_size` random items of the target sample, default
    min(calibration_size, sample_size // 2)) and, in the first `kdey` replicates, QuaPy's KDEyML
    (point estimate only; it is slow).
    Returns one row per (replicate, method, class): true share, estimate, low, high, status.
    """
    import pandas as pd

    classes = [str(c) for c in classes]
    y = np.asarray([str(c) for c in y])
    proba = np.asarray(proba, dtype=float)
    rng = np.random.default_rng(seed)
    audit_size = audit_size or min(calibration_size, sample_size // 2)
    rows = []
    for rep in range(reps):
        order = rng.permutation(len(y))
        cal, rest = order[:calibration_size], order[calibration_size:]
        by_class = {j: rest[y[rest] == c] for j, c in enumerate(classes)}
        available = np.array([len(by_class[j]) for j in range(len(classes))])
        present = [j for j in by_class if available[j]]
        shares = np.zeros(len(classes))
        shares[present] = rng.dirichlet(np.ones(len(present)))
        counts = np.minimum(rng.multinomial(sample_size, shares), available)
        while counts.sum() < min(sample_size, available.sum()):  # a class ran out: fill from those with items left
            room = available - counts
            counts += np.minimum(room, rng.multinomial(sample_size - counts.sum(), room / room.sum()))
        # Without replacement: a pool item drawn twice would make the sample look larger than it is.
        target = np.concatenate([rng.choice(by_class[j], counts[j], replace=False) for j in present if counts[j]])
        truth = np.array([(y[target] == c).mean() for c in classes])
        run = Settings(**{**settings.__dict__, "seed": int(rng.integers(1 << 31))})
        results = Quantifier(classes, y[cal], proba[cal], run).estimate(proba[target])
        audit = rng.choice(len(target), audit_size, replace=False)
        results["PPI"] = ppi_estimate(classes, y[target][audit], proba[target][audit], proba[target], run)
        if rep < kdey:
            from quapy.method._kdey import KDEyML

            nan = np.full(len(classes), np.nan)
            if all((y[cal] == c).any() for c in classes):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    q = KDEyML(_Fitted(classes), fit_classifier=False, val_split=None, random_state=0)
                    q.aggregation_fit(proba[cal], y[cal])
                    point = np.asarray(q.aggregate(proba[target]), dtype=float)
                results["KDEy"] = Estimate(point, nan, nan.copy(), [OK] * len(classes), [""] * len(classes))
            else:  # KDEy needs every class in the calibration set
                results["KDEy"] = Estimate(nan, nan.copy(), nan.copy(), [NOT_ESTIMABLE] * len(classes),
                                           ["a class without calibration items"] * len(classes))
        for method, r in results.items():
            for j, c in enumerate(classes):
                rows.append({"rep": rep, "method": method, "class": c, "true": truth[j], "estimate": r.estimate[j],
                             "low": r.low[j], "high": r.high[j], "status": r.status[j]})
    return pd.DataFrame(rows)


def coverage_summary(records: "pd.DataFrame") -> "pd.DataFrame":
    """Bias, MAE, interval coverage and width, refusals, per method (rows of app_coverage)."""
    import pandas as pd

    out = []
    for method, part in records.groupby("method", sort=False):
        made = part[part["status"] != NOT_ESTIMABLE]
        ok = part[part["status"] == OK]
        error = made["estimate"] - made["true"]
        inside = (made["low"] <= made["true"] + 1e-12) & (made["true"] <= made["high"] + 1e-12)
        inside_ok = (ok["low"] <= ok["true"] + 1e-12) & (ok["true"] <= ok["high"] + 1e-12)
        has_interval = made["low"].notna().any()
        out.append({"method": method, "bias": error.mean(), "mae": error.abs().mean(),
                    "coverage": inside.mean() if has_interval else np.nan,
                    "coverage_ok": inside_ok.mean() if has_interval and len(ok) else np.nan,
                    "width": (made["high"] - made["low"]).mean() if has_interval else np.nan,
                    "not_estimable": (part["status"] == NOT_ESTIMABLE).mean(),
                    "unreliable": (part["status"] == UNRELIABLE).mean(), "intervals": len(part)})
    return pd.DataFrame(out)

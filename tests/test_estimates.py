"""Estimates a reviewer can trust: refusals, intervals that never collapse, PPI, external
predictions, differences, sparse classes and a small coverage simulation."""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from stance import report as report_module
from stance.config import load_config
from stance.errors import StanceError
from stance.predict import FoldEnsemble
from stance.quantify import (NOT_ESTIMABLE, OK, Quantifier, Settings, app_coverage, coverage_summary,
                             ppi_estimate)
from stance.train import aligned_proba, train, warn_sparse_classes
from tests.conftest import REPO, SEEDS, write_run_config

QUIET = lambda *a, **k: None  # noqa: E731
Q17 = REPO / "tests" / "fixtures" / "q17_rare_class.jsonl"  # ../shared/cases/input/q17_rare_class.jsonl
CLASSES = ["neutral", "pro-Russia", "pro-Ukraine"]


def simulate(rng, shares, n, confusion):
    truth = rng.choice(len(CLASSES), n, p=shares)
    return np.asarray(CLASSES)[truth], np.stack([rng.dirichlet(confusion[t] * 8) for t in truth])


CONFUSION = np.array([[0.8, 0.1, 0.1], [0.4, 0.5, 0.1], [0.4, 0.1, 0.5]])


@pytest.fixture(scope="module")
def q17_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("q17")
    config = write_run_config(tmp / "q17.yaml", Q17, "q17", tmp / "runs", "seed: 13\n")
    run = train(load_config(config), say=QUIET)
    out = report_module.report([str(run)], tmp / "report", n_boot=100, compare_dir=None, say=QUIET)
    return run, out


def test_q17_a_class_the_calibration_set_lacks_gets_no_corrected_share(q17_report):
    run, out = q17_report
    calibration = report_module.calibration_set(run)
    assert (calibration["label"] == "pro-Russia").sum() < 10  # the case: (almost) none held out
    estimates = pd.read_csv(out / "estimates.csv")
    corrected = estimates[(estimates["class"] == "pro-Russia") & estimates["method"].isin(["ACC", "PACC"])]
    assert len(corrected) and (corrected["status"] == NOT_ESTIMABLE).all()
    assert corrected["estimate"].isna().all()
    assert corrected["reason"].str.contains("calibration items of this class").all()
    html = (out / "index.html").read_text()
    assert re.search(r"<li>framing: [^<]*pro-Russia[^<]* \(PACC\) not estimable for (\d+) of \1 outlet groups: "
                     r"[^<]*calibration items", html)
    assert "Highest pro-Russia" not in html


def test_no_interval_has_zero_width_below_1000_items(q17_report):
    _, out = q17_report
    estimates = pd.read_csv(out / "estimates.csv")
    made = estimates[estimates["low"].notna() & (estimates["n"] < 1000)]
    assert len(made) > 50
    assert ((made["high"] - made["low"]) > 0).all(), made[(made["high"] - made["low"]) <= 0]


def test_intervals_do_not_collapse_when_every_item_gets_one_label():
    # A calibration set the classifier gets perfectly right, and a group it labels all one class:
    # every bootstrap replicate is identical, yet 8 items never pin a share down to [1, 1].
    classes = ["a", "b"]
    cal_true = np.array(["a"] * 30 + ["b"] * 30)
    cal_proba = np.array([[1.0, 0.0]] * 30 + [[0.0, 1.0]] * 30)
    result = Quantifier(classes, cal_true, cal_proba, Settings(n_boot=100)).estimate(np.array([[1.0, 0.0]] * 8))
    for method, r in result.items():
        assert np.all(r.high - r.low > 0.2), (method, r.low, r.high)
        assert r.low[0] < 1 and r.high[0] == 1


def test_vectorised_calibration_resamples_equal_quapys_own_estimates():
    from quapy.method.aggregative import ACC, PACC

    from stance.quantify import _Fitted

    rng = np.random.default_rng(3)
    true, proba = simulate(rng, [0.5, 0.3, 0.2], 90, CONFUSION)
    q = Quantifier(CLASSES, true, proba, Settings(n_boot=5, seed=11))
    index = np.random.default_rng(11).integers(0, 90, 90)  # the first resample Quantifier draws
    pacc = PACC(_Fitted(CLASSES), fit_classifier=False, val_split=None)
    pacc.aggregation_fit(proba[index], true[index])
    np.testing.assert_allclose(q.matrices["PACC"][0], pacc.Pte_cond_estim_, atol=1e-12)
    acc = ACC(_Fitted(CLASSES), fit_classifier=False, val_split=None)
    acc.aggregation_fit(np.asarray(CLASSES)[proba[index].argmax(1)], true[index])
    np.testing.assert_allclose(q.matrices["ACC"][0], acc.Pte_cond_estim_, atol=1e-12)


def test_small_coverage_simulation():
    """The full simulation is benchmarks/coverage.py; this one is small enough for every test run."""
    rng = np.random.default_rng(0)
    y, proba = simulate(rng, [0.5, 0.25, 0.25], 3000, CONFUSION)
    records = app_coverage(CLASSES, y, proba, calibration_size=200, sample_size=200, reps=30, seed=1,
                           settings=Settings(n_boot=200))
    summary = coverage_summary(records).set_index("method")
    assert summary.loc["PACC", "coverage"] >= 0.9, summary
    assert summary.loc["PPI", "coverage"] >= 0.85, summary
    assert summary.loc["CC", "coverage"] < 0.7, summary  # biased counting: the check can fail
    assert summary.loc["PACC", "mae"] < summary.loc["CC", "mae"] / 2
    # With a 20-item calibration set the rare classes cannot be corrected: refused, not guessed.
    small = coverage_summary(app_coverage(CLASSES, y, proba, 20, 200, reps=10, seed=2)).set_index("method")
    assert small.loc["PACC", "not_estimable"] > 0.3


def test_ppi_uses_the_audit_sample_and_refuses_a_tiny_one():
    rng = np.random.default_rng(5)
    y, proba = simulate(rng, [0.2, 0.5, 0.3], 600, CONFUSION)
    audit = rng.choice(600, 120, replace=False)
    result = ppi_estimate(CLASSES, y[audit], proba[audit], proba, Settings())
    truth = np.array([(y == c).mean() for c in CLASSES])
    assert np.all(result.low <= truth) and np.all(truth <= result.high)
    assert result.status == [OK] * 3
    tiny = ppi_estimate(CLASSES, y[audit[:5]], proba[audit[:5]], proba, Settings())
    assert tiny.status == [NOT_ESTIMABLE] * 3 and "5 audit items" in tiny.reason[0]


def test_ppi_share_of_a_class_the_model_over_predicts_stays_a_share_inside_its_interval():
    # On the audit sample the model gives `pro` 0.9 to its 3 true cases and 0.5 to the rest, so
    # the rectifier is large, while on the corpus it gives `pro` almost nothing: the rectified
    # mean is far below 0. A share is clipped to [0, 1] and lies inside its interval.
    classes = ["pro", "neutral"]
    audit_true = ["pro"] * 3 + ["neutral"] * 57
    audit_proba = np.array([[0.9, 0.1]] * 3 + [[0.5, 0.5]] * 57)
    proba = np.tile([0.01, 0.99], (3000, 1))
    result = ppi_estimate(classes, audit_true, audit_proba, proba, Settings())
    assert 0.0 <= result.estimate[0] <= 1.0 and 0.0 <= result.estimate[1] <= 1.0
    assert np.all(result.low <= result.estimate) and np.all(result.estimate <= result.high)


def test_ppi_interval_of_a_class_absent_from_the_audit_is_no_narrower_than_the_audit_allows():
    # 0 of 200 audit items are `pro` and the model never predicts it: the normal interval has
    # zero width, but 200 labels cannot rule out a share of about 1.8% (exact 95% bound).
    classes = ["pro", "neutral"]
    audit_proba = np.tile([0.0, 1.0], (200, 1))
    result = ppi_estimate(classes, ["neutral"] * 200, audit_proba, np.tile([0.0, 1.0], (5000, 1)), Settings())
    assert result.estimate[0] == 0.0
    assert result.high[0] == pytest.approx(0.0181, abs=5e-4)
    assert result.low[1] == pytest.approx(1 - 0.0181, abs=5e-4)


def test_ppi_weights_a_stratified_audit_by_its_design_weights():
    # Stratum a: 9000 items, 10% pro; stratum b: 1000 items, 90% pro; 100 audited in each, so b's
    # items are 9 times as likely to be audited. Uninformative predictions leave the audit to
    # carry the estimate: unweighted it says about 0.5, weighted the true 0.18.
    classes = ["pro", "con"]
    audit_true = ["pro"] * 10 + ["con"] * 90 + ["pro"] * 90 + ["con"] * 10
    weights = np.array([90.0] * 100 + [10.0] * 100)
    audit_proba = np.tile([0.5, 0.5], (200, 1))
    proba = np.tile([0.5, 0.5], (10000, 1))
    naive = ppi_estimate(classes, audit_true, audit_proba, proba, Settings())
    weighted = ppi_estimate(classes, audit_true, audit_proba, proba, Settings(), weights=weights)
    assert naive.estimate[0] == pytest.approx(0.5)
    assert weighted.estimate[0] == pytest.approx(0.18)
    assert weighted.low[0] <= 0.18 <= weighted.high[0] and not naive.low[0] <= 0.18 <= naive.high[0]


def test_every_fit_gives_every_class_and_fold_models_are_averaged():
    class Fold:
        def __init__(self, classes, row):
            self.classes_, self.row = np.asarray(classes), np.asarray(row)

        def predict_proba(self, X):
            return np.tile(self.row, (len(X), 1))

    classes = ["favourable", "neutral", "unfavourable"]
    X = pd.DataFrame({"text": ["x", "y"]})
    never_saw_favourable = Fold(["neutral", "unfavourable"], [0.75, 0.25])
    np.testing.assert_allclose(aligned_proba(never_saw_favourable, X, classes), [[0, 0.75, 0.25]] * 2)
    ensemble = FoldEnsemble([never_saw_favourable, Fold(classes, [0.5, 0.25, 0.25])], classes)
    np.testing.assert_allclose(ensemble.predict_proba(X), [[0.25, 0.5, 0.25]] * 2)
    assert list(ensemble.predict(X)) == ["neutral", "neutral"]


def test_training_warns_with_counts_about_classes_rarer_than_folds(tmp_path, labelled_table):
    config = write_run_config(tmp_path / "k.yaml", labelled_table, "k", tmp_path / "runs",
                              "split: {method: kfold, folds: 5, val_size: 0.0}\n")
    cfg = load_config(config)
    examples = pd.DataFrame({"label": ["neutral"] * 40 + ["pro-Russia"] * 3 + ["pro-West"] * 12})
    said = []
    sparse = warn_sparse_classes(examples, cfg.label_schema.classes_for("framing"), cfg, said.append)
    assert sparse == {"pro-Russia": 3, "pro-Ukraine": 0}
    assert "pro-Russia: 3" in said[0] and "5 folds" in said[0]


def test_summary_states_only_differences_whose_interval_excludes_zero():
    diff = pd.DataFrame([
        {"group_a": "A", "group_b": "B", "target": "", "class": "x", "method": "PACC", "difference": 0.4,
         "low": 0.1, "high": 0.6, "status": OK},
        {"group_a": "A", "group_b": "C", "target": "", "class": "x", "method": "PACC", "difference": 0.3,
         "low": -0.1, "high": 0.6, "status": OK},
        {"group_a": "B", "group_b": "C", "target": "", "class": "x", "method": "PACC", "difference": -0.5,
         "low": -0.8, "high": -0.2, "status": "unreliable"},
    ])
    est = pd.DataFrame(columns=report_module.ESTIMATE_COLUMNS)
    lines = report_module.summary_lines({"estimates": est, "differences": diff, "method": "PACC", "task": "framing"},
                                        Settings())
    stated = [line for line in lines if " vs " in line]
    assert len(stated) == 1 and "A vs B" in stated[0] and "+0.40 [+0.10, +0.60]" in stated[0]
    lines = report_module.summary_lines({"estimates": est, "differences": diff.iloc[1:], "method": "PACC",
                                         "task": "framing"}, Settings())
    assert any("cannot tell the outlets apart" in line for line in lines)


def test_external_predictions_with_calibration_and_audit(tmp_path):
    rng = np.random.default_rng(2)
    classes = ["neutral", "pro-Russia", "pro-Ukraine", "pro-West"]
    confusion = np.full((4, 4), 0.1) + np.eye(4) * 0.6
    corpus = []
    for outlet, shares in (("Alpha", [0.7, 0.1, 0.1, 0.1]), ("Beta", [0.2, 0.1, 0.1, 0.6])):
        truth = rng.choice(4, 400, p=shares)
        for i, t in enumerate(truth):
            pred = rng.choice(4, p=confusion[t])
            corpus.append({"paragraph_id": f"{outlet}-{i}", "outlet": outlet, "label": classes[t],
                           "pred": classes[pred]})
    corpus = pd.DataFrame(corpus)
    corpus[["paragraph_id", "outlet", "pred"]].to_csv(tmp_path / "llm.csv", index=False)
    audit = corpus.sample(200, random_state=1)
    audit[["paragraph_id", "label"]].to_csv(tmp_path / "audit.csv", index=False)
    elsewhere = []
    for i in range(300):  # labelled items from elsewhere, predicted by the same "model"
        t = i % 4
        elsewhere.append({"paragraph_id": f"cal{i}", "label": classes[t], "pred": classes[rng.choice(4, p=confusion[t])]})
    pd.DataFrame(elsewhere).to_csv(tmp_path / "calibration.csv", index=False)
    out = report_module.report([], tmp_path / "r", external=str(tmp_path / "llm.csv"),
                               calibration=str(tmp_path / "calibration.csv"), audit=str(tmp_path / "audit.csv"),
                               compare_dir=None, say=QUIET)
    est = pd.read_csv(out / "estimates.csv")
    assert set(est["method"]) == {"CC", "ACC", "PACC", "PPI"}
    truth = corpus.groupby("outlet")["label"].apply(lambda s: (s == "pro-West").mean())
    for method in ("PACC", "PPI"):
        rows = est[(est["method"] == method) & (est["class"] == "pro-West") & (est["dimension"] == "outlet")]
        for r in rows.itertuples():
            assert r.low <= truth[r.outlet] <= r.high, (method, r)
    diff = pd.read_csv(out / "differences.csv")
    west = diff[(diff["class"] == "pro-West") & (diff["method"] == "PPI") & (diff["group_b"] == "Beta")]
    assert len(west) == 1 and west["high"].iloc[0] < 0  # Alpha prints far less pro-West than Beta
    assert "Alpha vs Beta" in (out / "index.html").read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text("paragraph_id,label\nAlpha-1,neutral\nAlpha-2,pro-Mars\n")
    with pytest.raises(StanceError, match=r"bad.csv: line 3: audit label 'pro-Mars'"):
        report_module.report([], tmp_path / "r2", external=str(tmp_path / "llm.csv"), audit=str(bad),
                             compare_dir=None, say=QUIET)
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("paragraph_id,label\nAlpha-1,neutral\nAlpha-2,neutral\nAlpha-1,neutral\n")
    with pytest.raises(StanceError, match=r"repeated.csv: line 4: audit item paragraph 'Alpha-1' appears twice "
                                          r"\(first on line 2\)"):
        report_module.report([], tmp_path / "r3", external=str(tmp_path / "llm.csv"), audit=str(repeated),
                             compare_dir=None, say=QUIET)


@pytest.mark.parametrize("rows, message", [
    ("p1,A,0.5,0.5,0.5,0.5\n", "line 2: the prob_ columns sum to 2.000, not 1"),
    ("p1,A,,0.5,0.5,0\n", "line 2: probabilities must be numbers in [0, 1]"),
    ("p1,A,1,0,0,0\np1,A,1,0,0,0\n", "line 3: predictions item paragraph 'p1' appears twice"),
])
def test_external_prediction_tables_that_would_count_wrongly_are_refused(tmp_path, rows, message):
    table = tmp_path / "ext.csv"
    table.write_text("paragraph_id,outlet,prob_neutral,prob_pro-Russia,prob_pro-Ukraine,prob_pro-West\n" + rows)
    audit = tmp_path / "audit.csv"
    audit.write_text("paragraph_id,label\np1,neutral\n")
    with pytest.raises(StanceError, match=re.escape(message)):
        report_module.report([], tmp_path / "r", external=str(table), audit=str(audit), compare_dir=None, say=QUIET)


@pytest.mark.slow
def test_seeds_stance_run_reports_without_error(tmp_path):
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not present beside the checkout")

    def run(*args):
        result = subprocess.run([sys.executable, "-m", *args], cwd=tmp_path, capture_output=True, text=True,
                                env={"PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
                                     "STANCE_ALLOW_OUTSIDE": "1"})
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    (tmp_path / "configs").mkdir()
    config = (REPO / "configs" / "seeds.yaml").read_text().replace("../shared/seeds", str(SEEDS))
    (tmp_path / "configs" / "seeds.yaml").write_text(config)
    trained = run("stance.train", "configs/seeds.yaml", "--set", "task=stance")
    assert "WARNING" in trained and "favourable" in trained
    run_dir = next((tmp_path / "experiments").iterdir())
    run("stance.corpus", str(SEEDS), "--out", "build/seeds")
    run("stance.predict", str(run_dir), "build/seeds/paragraphs.parquet", "--out", "build/pred", "--quiet")
    manifest = json.loads((tmp_path / "build" / "pred" / "manifest.json").read_text())
    assert sorted(manifest["classes"]) == ["favourable", "neutral", "unfavourable"]  # all, though folds lacked some
    run("stance.report", str(run_dir), "--predictions", "build/pred", "--out", "reports/st", "--quiet")
    est = pd.read_csv(tmp_path / "reports" / "st" / "estimates.csv")
    net = est[(est["class"] == "net") & (est["method"] == "PACC")]
    assert len(net) and (tmp_path / "reports" / "st" / "stance-net_stance.png").is_file()


def test_periods_are_months_or_quarters_and_labelled_as_such():
    sparse = pd.Series(["2024-01-05", "2024-02-11", "2024-04-02", "2024-08-30"] * 5)
    labels, unit = report_module.period_labels(sparse)
    assert unit == "quarter" and sorted(set(labels)) == ["2024Q1", "2024Q2", "2024Q3"]
    dense = pd.Series([f"2024-{m:02d}-{d:02d}" for m in (1, 2, 3) for d in range(1, 29) for _ in range(2)])
    labels, unit = report_module.period_labels(dense)
    assert unit == "month" and sorted(set(labels)) == ["2024-01", "2024-02", "2024-03"]


def test_compare_figures_are_shown_only_for_the_same_task_and_data(q17_report, tmp_path):
    run, _ = q17_report
    from stance.figures import new_figure, save_figure

    for folder, runs in (("same", [run.name]), ("other", [run.name, "someone-else-1234abcd"])):
        (tmp_path / "compare" / folder).mkdir(parents=True)
        pd.DataFrame({"run": runs, "task": "framing"}).to_csv(tmp_path / "compare" / folder / "runs.csv", index=False)
        fig, _ = new_figure()
        save_figure(fig, tmp_path / "compare" / folder / f"curve-{folder}")
    out = report_module.report([str(run)], tmp_path / "r", n_boot=50, compare_dir=tmp_path / "compare", say=QUIET)
    html = (out / "index.html").read_text()
    assert "curve-same" in html and "curve-other" not in html
    assert "compare/other are left out" in html


def test_an_audit_weight_that_is_not_a_positive_number_names_its_line(tmp_path):
    audit = tmp_path / "audit.csv"
    audit.write_text("paragraph_id,label,weight\np1,pro,2.5\np2,con,-1\n", encoding="utf-8")
    table = report_module.read_labelled_table(audit, "audit")
    with pytest.raises(StanceError, match=r"audit.csv: line 3: weight must be a positive number, got '-1'"):
        report_module.audit_weights(table, audit)


def test_pacc_that_the_audit_contradicts_is_marked_unreliable():
    from stance.quantify import UNRELIABLE, Estimate

    pacc = Estimate(np.array([0.97, 0.03]), np.array([0.96, 0.0]), np.array([1.0, 0.04]), [OK, OK], ["", ""])
    ppi = Estimate(np.array([0.78, 0.22]), np.array([0.73, 0.17]), np.array([0.83, 0.27]), [OK, OK], ["", ""])
    report_module.check_against_audit(pacc, ppi, 2)
    assert pacc.status == [UNRELIABLE, UNRELIABLE]
    assert "disagrees with PPI on the audit sample (0.78 [0.73, 0.83])" in pacc.reason[0]
    agreeing = Estimate(np.array([0.8, 0.2]), np.array([0.7, 0.1]), np.array([0.9, 0.3]), [OK, OK], ["", ""])
    report_module.check_against_audit(agreeing, ppi, 2)
    assert agreeing.status == [OK, OK]


def test_the_sample_files_design_weight_column_is_read_as_the_weight(tmp_path):
    audit = tmp_path / "audit.csv"
    audit.write_text("paragraph_id,label,design_weight\np1,pro,2.5\np2,con,10\n", encoding="utf-8")
    table = report_module.audit_weights(report_module.read_labelled_table(audit, "audit"), audit)
    assert list(table["weight"]) == [2.5, 10.0]

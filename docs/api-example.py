# %% [markdown]
# # stance from Python: ingest -> label -> train -> report
#
# A notebook-style walk through the Python API on the packaged example corpus (401 invented
# paragraphs from seven outlets). Run it as a script from any folder (`python docs/api-example.py`):
# it writes `example-labels.csv`, `experiments/` and `reports/` there. tests/test_api_example.py
# runs it, so it stays true.

# %%
import pandas as pd

import stance

# %% [markdown]
# ## 1. Ingest
# `stance.ingest` reads pages or a table into the paragraph table `stance corpus` writes: one row
# per paragraph with its outlet, date, the actors it mentions and its story cluster (syndicated
# copies share one).

# %%
paragraphs = stance.ingest("builtin:example")
print(len(paragraphs), "paragraphs from", paragraphs["outlet"].nunique(), "outlets,",
      paragraphs["cluster_id"].nunique(), "story clusters")
print(paragraphs[["paragraph_id", "outlet", "actors"]].head(3).to_string(index=False))

# %% [markdown]
# ## 2. Label
# Labels come from annotators (`stance annotate export` / `import`, Label Studio). The example
# corpus carries framing labels already; here they stand in for an annotator's sheet: a table of
# paragraph id, text and label is all training needs.

# %%
labelled = paragraphs.loc[paragraphs["framing"].notna(), ["paragraph_id", "doc_id", "outlet", "date", "text", "framing"]]
labelled.to_csv("example-labels.csv", index=False)
print(labelled["framing"].value_counts().to_string())

# %% [markdown]
# ## 3. Train
# `stance.train` takes a config as a dict (or a YAML file) and returns the finished run: split by
# story cluster, tuned on validation macro-F1, scored on test with 95% bootstrap intervals.

# %%
run = stance.train({"name": "api-example", "task": "framing", "data": {"path": "example-labels.csv"},
                    "model": {"kind": "tfidf", "tune": {"C": [0.3, 1.0]}}}, quiet=True)
test = run.metrics["test"]
ci = test["ci"]["macro_f1"]
print(f"{run.name}: test macro-F1 {test['macro_f1']:.3f} [{ci['low']:.3f}, {ci['high']:.3f}], n = {test['n']}")

# The run labels new text in memory, with the numbers `stance predict` would write.
new = run.predict(["NATO allies pledged more air defence for the eastern flank.",
                   "The ministry in Moscow said the sanctions would fail."])
print(new[["row", "pred", *[f"prob_{c}" for c in run.classes_]]].round(3).to_string(index=False))

# %% [markdown]
# ## 4. Report
# Class shares per outlet, corrected for the classifier's errors (PACC, with the run's test
# predictions as calibration set), with intervals; `index.html` holds every figure.

# %%
from stance.report import report  # noqa: E402

folder = report([str(run.path)], n_boot=100, say=lambda *a, **k: None)
estimates = pd.read_csv(folder / "estimates.csv")
shares = estimates[(estimates["method"] == "PACC") & (estimates["dimension"] == "outlet")]
# With 80 test paragraphs as the calibration set, most PACC shares come back `unreliable` (wide
# intervals) or `not_estimable` (a class with too few calibration items): the report refuses
# what this small example cannot support. A gold set of a few hundred items per outlet
# (benchmarks/RESULTS.md, "Coverage") is what makes them `ok`.
print(shares[["outlet", "class", "estimate", "low", "high", "status"]].head(8).to_string(index=False))
print("report:", folder / "index.html")

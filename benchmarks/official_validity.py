"""The known-groups validity table of the official-statements worked example (issue 18).

    python benchmarks/official_validity.py REPORT_DIR TASK [--half-report DIR --half-audit FILE]

Reads a `stance.report` folder made with `--audit stance/data/official/audit-TASK.csv` and sets
each publisher's PACC and PPI estimates beside the gold share of the publisher's 200 sampled
paragraphs (stance/data/official/gold.csv; the all-publisher gold share is design-weighted).

The PPI estimate is computed from those same 200 labels, so an interval that covers the gold
share of its own audit is close to automatic. The independent check is the split-half one: with
`--half-report` (a report whose `--audit` was one seeded half of each publisher's sample, written
by `--write-halves`), each PPI estimate is set against the gold share of the *other* half, and
the difference is judged against both halves' sampling error (z-test at 5%).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parents[1] / "stance" / "data" / "official"
ALL = "(all outlets)"


def gold_table(task: str) -> pd.DataFrame:
    gold = pd.read_csv(HERE / "gold.csv", dtype=str)
    sample = pd.read_csv(HERE / "sample.csv", dtype={"paragraph_id": str})
    return gold[["paragraph_id", task]].rename(columns={task: "label"}).merge(
        sample[["paragraph_id", "outlet", "design_weight"]], on="paragraph_id", validate="one_to_one")


def gold_shares(gold: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    rows = []
    for outlet, part in [*gold.groupby("outlet"), (ALL, gold)]:
        w = part["design_weight"].to_numpy(float)
        for c in classes:
            hit = (part["label"] == c).to_numpy(float)
            share = float((w * hit).sum() / w.sum())
            # Standard error of a (weighted) sample share; Kish's effective n for the pooled row.
            n_eff = w.sum() ** 2 / (w ** 2).sum()
            rows.append({"outlet": outlet, "class": c, "gold": share, "gold_n": len(part),
                         "gold_se": float(np.sqrt(max(share * (1 - share), 1e-12) / n_eff))})
    return pd.DataFrame(rows)


def estimates(report: Path) -> pd.DataFrame:
    est = pd.read_csv(report / "estimates.csv")
    return est[est["dimension"].isin(["outlet", "all"]) & est["method"].isin(["PACC", "PPI"])].assign(
        outlet=lambda e: e["outlet"].fillna(ALL))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report")
    parser.add_argument("task", choices=["framing", "sentiment"])
    parser.add_argument("--write-halves", metavar="DIR", help="write audit-half-a.csv / audit-half-b.csv (seed 1)")
    parser.add_argument("--half-report", help="a report made with --audit DIR/audit-half-a.csv")
    parser.add_argument("--half-audit", help="that audit-half-a.csv (the other half is the check)")
    args = parser.parse_args()
    gold = gold_table(args.task)
    if args.write_halves:
        out = Path(args.write_halves)
        out.mkdir(parents=True, exist_ok=True)
        half = gold.groupby("outlet", group_keys=False).apply(lambda p: p.sample(frac=0.5, random_state=1))
        a = gold[gold["paragraph_id"].isin(half["paragraph_id"])]
        a[["paragraph_id", "label"]].assign(weight=a["design_weight"] * 2).to_csv(out / "audit-half-a.csv", index=False)
        print(f"wrote {out}/audit-half-a.csv ({len(a)} items)")
        return 0
    est = estimates(Path(args.report))
    classes = sorted(est["class"].unique())
    table = est.merge(gold_shares(gold, classes), on=["outlet", "class"], how="left")
    table["covers_gold"] = (table["low"] <= table["gold"]) & (table["gold"] <= table["high"])
    show = table[["outlet", "class", "method", "estimate", "low", "high", "status", "gold", "covers_gold"]]
    print(show.sort_values(["method", "outlet", "class"]).to_markdown(index=False, floatfmt=".3f"))
    for method in ("PACC", "PPI"):
        part = table[(table["method"] == method) & (table["outlet"] != ALL)]
        print(f"{method}: {int(part['covers_gold'].sum())} of {len(part)} publisher x class intervals cover the gold "
              f"share; mean |estimate - gold| {np.abs(part['estimate'] - part['gold']).mean():.3f}")
    for c in classes:
        rows = table[(table["method"] == "PPI") & (table["class"] == c) & (table["outlet"] != ALL)]
        top = rows.sort_values("estimate", ascending=False).iloc[0]
        print(f"highest PPI {c} share: {top['outlet']} {top['estimate']:.3f} [{top['low']:.3f}, {top['high']:.3f}]")
    if args.half_report:
        used = set(pd.read_csv(args.half_audit, dtype=str)["paragraph_id"])
        other = gold[~gold["paragraph_id"].isin(used)]
        half = estimates(Path(args.half_report))
        half = half[(half["method"] == "PPI") & (half["outlet"] != ALL)].merge(
            gold_shares(other, classes), on=["outlet", "class"])
        se = np.sqrt(((half["high"] - half["low"]) / (2 * 1.96)) ** 2 + half["gold_se"] ** 2)
        half["z"] = (half["estimate"] - half["gold"]) / se.where(se > 0, np.nan)
        half["agrees"] = half["z"].abs().fillna(0) <= 1.96
        print("\nSplit-half check: PPI on one half of each publisher's sample against the gold share of the other half")
        print(half[["outlet", "class", "estimate", "low", "high", "gold", "gold_n", "z", "agrees"]].to_markdown(
            index=False, floatfmt=".3f"))
        print(f"split-half: {int(half['agrees'].sum())} of {len(half)} publisher x class estimates agree with the "
              "held-out half at the 5% level")
    return 0


if __name__ == "__main__":
    sys.exit(main())

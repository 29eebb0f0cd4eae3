"""Prediction throughput (paragraphs per second) and peak memory, stance.predict vs direct.

    python benchmarks/predict_throughput.py RUN [--n 100000]

RUN is a TF-IDF run folder (e.g. from `python -m stance.train configs/base.yaml`). A synthetic
paragraphs.parquet of n paragraphs (benchmarks/synthetic.py) is labelled twice, each in its own
process so peak RSS is separate: by `stance.predict` (batches of 2000, Parquet parts) and by
the same model's predict_proba on the whole table loaded into memory at once.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import generate  # noqa: E402

DIRECT = """
import json, sys, time
import pandas as pd
from stance.models import load_model
run, corpus = sys.argv[1], sys.argv[2]
record = json.load(open(run + "/run.json"))
model = load_model(__import__("pathlib").Path(run) / record["primary_model"])
frame = pd.read_parquet(corpus)
frame["target"], frame["target_spans"] = None, [[] for _ in range(len(frame))]
model.predict_proba(frame[["text", "target", "target_spans"]])
"""


# Each measured process reports its own peak RSS on exit (Linux: ru_maxrss in KiB).
REPORT_PEAK = ("import atexit, resource, sys; atexit.register(lambda: print('PEAK_KIB', "
               "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)); ")


def timed(code: str, argv: list[str]) -> tuple[float, float]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", REPORT_PEAK + code, *argv], check=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    peak = next(int(line.split()[1]) for line in result.stderr.splitlines() if line.startswith("PEAK_KIB"))
    return seconds, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "paragraphs.parquet"
        generate(args.n).drop(columns=["framing"]).to_parquet(corpus, index=False, row_group_size=20_000)
        direct_s, direct_mib = timed(DIRECT, [args.run, str(corpus)])
        ours_s, ours_mib = timed("import sys, runpy; sys.argv = ['stance.predict'] + sys.argv[1:]; "
                                 "runpy.run_module('stance.predict', run_name='__main__')",
                                 [args.run, str(corpus), "--out", str(Path(tmp) / "out"), "--quiet"])
        rows = json.loads((Path(tmp) / "out" / "manifest.json").read_text())["rows"]
    print(f"paragraphs: {args.n}, predictions written: {rows}")
    print(f"stance.predict: {ours_s:.1f} s, {args.n / ours_s:.0f} paragraphs/s, peak RSS {ours_mib:.0f} MiB")
    print(f"direct:         {direct_s:.1f} s, {args.n / direct_s:.0f} paragraphs/s, peak RSS {direct_mib:.0f} MiB")
    print(f"ratios stance/direct: time {ours_s / direct_s:.2f}, peak memory {ours_mib / direct_mib:.2f}")


if __name__ == "__main__":
    main()

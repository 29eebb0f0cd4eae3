"""A one-line scraped page of N MB through `stance.corpus`: time and peak memory.

    python benchmarks/long_page.py 50            # 50 MB page; prints wall time and peak RSS / page size

Some scrapers write a whole article body, or a whole site, as one line. Segmentation must stay
linear in the page size (issue 17, item 9: before the fix a 12 MB page took 92 s and 50 MB did
not finish). The page is made of random sentences over a small invented vocabulary, generated
under build/bench/ (never committed); the ingest runs in a child process so its peak resident
memory is measured alone.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

WORDS = ("Russia Ukraine China Washington NATO the ministers said talks were useful and that envoys "
         "would meet again in Vienna after the harbour dispute was settled by a panel").split()


def write_page(path: Path, megabytes: float, seed: int = 1) -> int:
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    written = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        while written < target:
            words = [rng.choice(WORDS) for _ in range(15)]
            sentence = " ".join(words)[0].upper() + " ".join(words)[1:] + ". "
            handle.write(sentence)
            written += len(sentence)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("megabytes", type=float, nargs="?", default=50.0)
    parser.add_argument("--dir", default="build/bench/long-page")
    args = parser.parse_args()
    folder = Path(args.dir)
    shutil.rmtree(folder, ignore_errors=True)
    size = write_page(folder / "pages" / "page.txt", args.megabytes)
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "stance.corpus", str(folder / "pages"), "--out", str(folder / "out")],
                   check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = usage.ru_maxrss * 1024  # Linux reports KiB
    # CPU time too: on a shared machine wall time depends on the other jobs.
    print(f"page {size / 1e6:.1f} MB: ingest {wall:.1f} s wall, {usage.ru_utime + usage.ru_stime:.1f} s CPU, "
          f"peak RSS {peak / 2**20:.0f} MiB = {peak / size:.1f} x the page size")


if __name__ == "__main__":
    main()

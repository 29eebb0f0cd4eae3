"""Write the worked example's two labelled files (README: "Scoring a run on another labelled set").

Every sentence comes from the templates below, written for this project (no outside text).

    tweets.csv   the training set: a spreadsheet saved by Excel (BOM, semicolons) in the wide
                 layout of public tweet stance data: Tweet; Target 1; Stance 1; Target 2; Stance 2
    roles.jsonl  the evaluation set: a colleague's long table, one row per (paragraph, mention),
                 with inclusive end offsets and labels pro / anti / neutral
Run from the repository root: python docs/examples/make_files.py
"""

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).parent
CUES = {
    "FAVOR": ["we stand with {t}", "thank you {t} for the help", "proud of {t} today", "{t} deserves our support"],
    "AGAINST": ["shame on {t} for the shelling", "{t} lied again about the strikes", "no trust left in {t}",
                "{t} must stop the attacks"],
    "NONE": ["{t} held a press briefing at noon", "the weather in {t} turned cold", "a train from {t} arrived late",
             "{t} published new customs rules"],
}
OPENERS = ["Morning thoughts:", "Just read the news.", "Honestly,", "From the market square:", "Update:", "So,"]
# Distinct tails keep posts from looking like copies of one another (which would make them one story cluster).
PLACES = ["in the bakery queue", "on the night bus", "at the harbour", "after the football", "at my desk",
          "in the rain", "before breakfast", "at the library", "on the ferry", "by the river"]
TARGETS = ["Russia", "Ukraine", "NATO"]
ROLE = {"FAVOR": "pro", "AGAINST": "anti", "NONE": "neutral"}


def post(rng: random.Random, first: str, second: str, s1: str, s2: str, k: int) -> str:
    one = rng.choice(CUES[s1]).format(t=first)
    two = rng.choice(CUES[s2]).format(t=second)
    return f"{rng.choice(OPENERS)} {one[0].upper() + one[1:]}, and {two}. Written {rng.choice(PLACES)} #{k}"


def tweets(n: int = 90, seed: int = 1) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for k in range(n):
        first, second = rng.sample(TARGETS, 2)
        s1, s2 = rng.choice(list(CUES)), rng.choice(list(CUES))
        text = post(rng, first, second, s1, s2, k)
        if rng.random() < 0.2:  # some posts name only one target
            rows.append({"Tweet": text.split(", and")[0] + f". #{k}", "Target 1": first, "Stance 1": s1,
                         "Target 2": "", "Stance 2": ""})
        else:
            rows.append({"Tweet": text, "Target 1": first, "Stance 1": s1, "Target 2": second, "Stance 2": s2})
    return rows


def roles(n_articles: int = 12, seed: int = 2) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows = []
    for a in range(n_articles):
        for p in range(2):
            first, second = rng.sample(TARGETS, 2)
            s1, s2 = rng.choice(list(CUES)), rng.choice(list(CUES))
            text = post(rng, first, second, s1, s2, 2 * a + p)
            for target, label in ((first, s1), (second, s2)):
                start = text.index(target)
                rows.append({"article": f"a{a:02d}", "paragraph": f"a{a:02d}-{p}", "body": text, "mention": target,
                             "start": start, "end": start + len(target) - 1, "role": ROLE[label]})
    return rows


def main() -> None:
    with (HERE / "tweets.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["Tweet", "Target 1", "Stance 1", "Target 2", "Stance 2"],
                                delimiter=";")
        writer.writeheader()
        writer.writerows(tweets())
    (HERE / "roles.jsonl").write_text("".join(json.dumps(r) + "\n" for r in roles()), encoding="utf-8")


if __name__ == "__main__":
    main()

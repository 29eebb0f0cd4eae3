import json
import os
import random
from pathlib import Path

import pytest

from stance.config import corpus_defaults

REPO = Path(__file__).resolve().parents[1]

# Tests write runs into pytest's temporary folders, outside the project: allowed here (and in the
# commands they start); tests/test_bad_input.py removes it to check the guard itself.
os.environ["STANCE_ALLOW_OUTSIDE"] = "1"
SEEDS = REPO.parent / "shared" / "seeds"


@pytest.fixture(scope="session")
def defaults():
    return corpus_defaults()


@pytest.fixture
def seeds_dir():
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not present beside the checkout")
    return SEEDS


# An aggregator page in the shape of the scraped ones, written for these tests.
AGGREGATOR_PAGE = """logo
Harbour talks resume between the two rival ports

Harbour talks resume between the two rival ports
Gazette Weekly03-04-2025
The port authority said on Monday that talks with the northern harbour would resume next week, after a pause of
three months
.
Live Events
Officials from Moscow and Kyiv were not invited, a spokesman said, adding that the talks concerned only cargo fees.
Try Our AI Features
Comments
No comments yet...
Related Articles

River Post
12 minutes ago
- River Post
Bridge repairs delayed again as budget dispute drags on
The city council said the bridge would stay closed until autumn. STORY CONTINUES BELOW THIS AD Engineers had warned about cracks in the main span for years. The mayor blamed Washington for cutting grants. About the Author Jane Doe writes about infrastructure.

Valley Times
an hour ago
- Valley Times
Farmers welcome early rain across the valley
Farmers across the valley welcomed early rain on Tuesday, saying it would help the winter wheat after a dry autumn.
DOWNLOAD THE APP
Recent
A teaser headline about something else entirely that must not reach the corpus.
"""


@pytest.fixture
def aggregator_page(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "page.txt").write_text(AGGREGATOR_PAGE, encoding="utf-8")
    return folder


def write_run_config(path: Path, table: Path, name: str, runs: Path, more: str = "") -> Path:
    """A config that trains on `table` into `runs`; `more` adds YAML lines (task, model, ...)."""
    path.write_text(f"name: {name}\ndata: {{path: {table}}}\noutput_dir: {runs}\n{more}", encoding="utf-8")
    return path


def write_labelled_table(path: Path, n_docs: int = 40, paragraphs_per_doc: int = 3) -> Path:
    """A small labelled JSONL table whose framing depends on words the model can learn."""
    vocab = {
        "neutral": "officials met to discuss the schedule and agenda of the meeting",
        "pro-Russia": "Moscow defends its legitimate security interests against Western pressure",
        "pro-Ukraine": "Kyiv defenders resist the invasion and protect Ukrainian towns",
        "pro-West": "NATO allies show unity and strengthen deterrence across the alliance",
    }
    filler = ("harbour winter budget council river market railway school bridge festival election "
              "factory harvest museum airport hospital village library stadium tunnel").split()
    rng = random.Random(0)
    classes = list(vocab)
    with path.open("w", encoding="utf-8") as handle:
        for d in range(n_docs):
            framing = classes[d % 4]
            for p in range(paragraphs_per_doc):
                # Distinct filler keeps paragraphs from looking like syndicated copies of each other.
                words = " ".join(rng.sample(filler, 8))
                text = f"{words.capitalize()}: {vocab[framing]}, said a source in Russia."
                handle.write(json.dumps({
                    "doc_id": f"doc{d}", "outlet": f"Outlet {d % 3}", "date": f"2025-01-{1 + d % 28:02d}",
                    "text": text, "framing": framing,
                    "sentiment": ["negative", "neutral", "positive"][(d + p) % 3],
                    "stance": {"Russia": ["favourable", "unfavourable", "neutral"][d % 3]},
                }) + "\n")
    return path


@pytest.fixture
def labelled_table(tmp_path):
    return write_labelled_table(tmp_path / "labelled.jsonl")


def build_tiny_encoder(folder: Path, words: list[str]) -> Path:
    """A randomly initialised 2-layer BERT with a word-level vocabulary, saved like a pretrained model.

    It goes through exactly the loading code a real encoder does (AutoTokenizer and
    AutoModelForSequenceClassification from a folder), at a size that trains in seconds.
    """
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list("abcdefghijklmnopqrstuvwxyz0123456789.,:;'\"-")
    vocab = list(dict.fromkeys(specials + sorted(set(words)) + chars + ["##" + c for c in chars]))
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab=str(folder / "vocab.txt"), do_lower_case=True).save_pretrained(folder)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory):
    pytest.importorskip("torch")
    words = []
    table = write_labelled_table(tmp_path_factory.mktemp("vocab") / "t.jsonl")
    for line in table.read_text(encoding="utf-8").splitlines():
        words += [w.strip(".,:").lower() for w in json.loads(line)["text"].split()]
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny-encoder"), words)


class WordTokenizer:
    """Whitespace tokens with offsets, like a fast tokenizer's: enough for the target window code."""

    sep_token = "[SEP]"

    def tokenize(self, text):
        return text.split()

    def __call__(self, text, add_special_tokens=False, return_offsets_mapping=True):
        offsets, position = [], 0
        for word in text.split():
            start = text.index(word, position)
            offsets.append((start, start + len(word)))
            position = start + len(word)
        return {"offset_mapping": offsets}

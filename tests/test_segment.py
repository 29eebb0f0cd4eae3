from stance.corpus.segment import Span, chunk_span, iter_lines, normalize_ws, sentence_spans


def test_iter_lines_handles_every_newline_style():
    text = "one\r\ntwo\rthree\nfour"
    assert [text[s.start:s.end] for s in iter_lines(text)] == ["one", "two", "three", "four"]


def test_sentences_skip_abbreviations_and_initials():
    text = "The U.S. President met Gen. Smith and J. Doe in Kyiv. Talks ended late. Nothing was signed."
    sentences = [text[s.start:s.end] for s in sentence_spans(text, Span(0, len(text)))]
    assert sentences == ["The U.S. President met Gen. Smith and J. Doe in Kyiv.", "Talks ended late.",
                         "Nothing was signed."]


def test_chunks_are_bounded_cover_the_text_and_cut_on_sentences():
    sentence = "This is a sentence about the talks in the capital that goes on for a while. "
    text = sentence * 60
    chunks = chunk_span(text, Span(0, len(text.rstrip())), above_chars=1500, target_chars=700)
    assert len(chunks) > 3
    assert all(c.end - c.start <= 700 for c in chunks)
    assert all(text[c.end - 1] == "." for c in chunks)
    joined = " ".join(normalize_ws(text[c.start:c.end]) for c in chunks)
    assert joined == normalize_ws(text)


def test_a_sentence_longer_than_the_limit_is_still_cut():
    text = "word " * 1000
    chunks = chunk_span(text, Span(0, len(text.rstrip())), above_chars=500, target_chars=300)
    assert max(c.end - c.start for c in chunks) <= 500
    assert sum(len(text[c.start:c.end].split()) for c in chunks) == 1000


def test_short_paragraph_is_left_alone():
    text = "A short paragraph."
    assert chunk_span(text, Span(0, len(text)), 1500, 700) == [Span(0, len(text))]


def test_a_long_one_line_page_is_cut_into_every_sentence():
    """A one-line page of ~400 KB (the quadratic prefix copy made this take minutes at 12 MB;
    benchmarks/long_page.py times 50 MB): every sentence found, in order, covering the text."""
    import random

    rng = random.Random(5)
    words = "envoys met in Vienna and the harbour panel said Gen. talks U.S. would resume".split()
    sentences = []
    while sum(map(len, sentences)) < 400_000:
        body = " ".join(rng.choice(words) for _ in range(12))
        sentences.append(body[0].upper() + body[1:] + ".")
    text = " ".join(sentences)
    found = sentence_spans(text, Span(0, len(text)))
    # A sentence that ends in "Gen." or "U.S." runs on into the next one, as it should.
    expected = []
    for sentence in sentences:
        if expected and expected[-1].split()[-1] in ("Gen.", "U.S."):
            expected[-1] += " " + sentence
        else:
            expected.append(sentence)
    assert [text[s.start:s.end] for s in found] == expected
    chunks = chunk_span(text, Span(0, len(text)), above_chars=1500, target_chars=700)
    assert " ".join(text[c.start:c.end] for c in chunks) == text
    assert all(c.end - c.start <= 1500 for c in chunks)

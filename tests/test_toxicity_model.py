"""The pure-Python toxicity scorer gives the same probability as alt-profanity-check itself."""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from profanity_check import predict_prob
from profanity_check.profanity_check import vectorizer

from workers.scoring.toxicity import _model, load_model, toxicity_score

REPO = Path(__file__).resolve().parent.parent
TOLERANCE = 1e-6
JIGSAW = "toxicity/jigsaw_toxic_natural_4000.csv"
JIGSAW_ROWS = 2000

TRICKY = [
    # Nearly empty: not blank for str.strip(), so the model is consulted.
    ".",
    "?!",
    "...,;:--()[]{}",
    "a",
    "I",
    "x y z",
    "\u200b",  # zero-width space is not whitespace to str.strip()
    "ab",
    # Non-ASCII letters and accents (strip_accents is None: precomposed and decomposed differ).
    "Pokémon josé BEYONCÉ expért",
    "Poke\u0301mon jose\u0301",
    "naïve café déjà vu, straße Ärger ÖL",
    "İstanbul ǅemal ﬁne ﬂow",  # lower() changes the length of some of these
    "ΣΊΣΥΦΟΣ βcommand μελ ετητης",
    "竜龙 見学 迷惑 連絡 聖やや",
    "ውይይት",
    # Hebrew and Arabic, mixed with Latin.
    "שלום לכולם, this is a fine article",
    "אתה אידיוט idiot",
    "مرحبا ٣٤٥ ١٢",
    # Emoji, alone and glued to words.
    "🤬🤬🤬",
    "you 💩 idiot👍 great🎉",
    "👨‍👩‍👧 family ❤️",
    # Digits and underscores.
    "0",
    "12 123 1234 2023 1950s 40% $500",
    "2nd 3rd 4th 10th",
    "foo_bar __init__ snake_case_words _ __ ___",
    "a_b 1_2 x1 1x",
    # Repeated terms.
    "idiot idiot idiot idiot idiot",
    "stupid " * 40,
    "bridge bridge council council council report",
    # Stop words only, and stop words around one term.
    "the and of to a in is it you that",
    "THE AND OF",
    "the the the idiot the the the",
    "you are a",
    # Newlines, tabs and other whitespace inside.
    "line one\nline two\r\nline three\tand\ttabs",
    "\n\nidiot\n\n",
    "\tmoron\x0bstupid\x0cfool\x1c\x1d\x1e",
    "non\xa0breaking\u2003spaces\u3000here",
    # Apostrophes, straight and curly.
    "don't can't won't isn't you're it's o'clock",
    "don\u2019t can\u2019t you\u2019re rock\u2019n\u2019roll",  # curly apostrophes
    "'quoted' \"double\" «guillemets» „low“",
    # Mixed case.
    "FuCk YoU iDiOt",
    "THIS IS A DISGRACE AND EVERYONE KNOWS IT",
    "McDonald's iPhone eBay YouTube",
    # URLs, handles, markup.
    "https://news.example/story?id=1&x=y www.example.com user@example.com",
    "@someone #hashtag RT &amp; &lt;b&gt;",
    "<b>bold</b> <a href='x'>link</a>",
    # Very long: about 5,000 characters.
    ("The council promised this would be finished in 2023, you idiot. " * 80)[:5000],
    ("word " * 1000)[:5000],
    "x" * 5000,
]


def _assert_matches_library(texts: list[str]) -> None:
    """Compare every text with the library's batch prediction, reporting the worst gaps."""
    expected = predict_prob(texts)
    gaps = sorted(
        (
            (abs(toxicity_score(text) - float(want)), text)
            for text, want in zip(texts, expected, strict=True)
        ),
        key=lambda pair: pair[0],
        reverse=True,
    )
    worst = [(gap, text[:80]) for gap, text in gaps[:5] if gap > TOLERANCE]
    assert not worst, f"differs from the library by more than {TOLERANCE}: {worst}"


def _shared_data() -> Path:
    return Path(os.environ.get("TALKBACK_SHARED_DATA", REPO.parent / "shared" / "data"))


def test_tricky_inputs_match_the_library():
    assert all(text.strip() for text in TRICKY)
    _assert_matches_library(TRICKY)


def test_text_without_vocabulary_terms_gives_the_intercept_only_probability():
    no_terms = [".", "!!!", "the and of", "zzqxw vvkkjj", "🤬", "a b c"]
    expected = predict_prob(no_terms)
    assert len(set(expected.tolist())) == 1
    for text in no_terms:
        assert toxicity_score(text) == pytest.approx(float(expected[0]), abs=1e-12)
    assert _model().no_terms_probability == pytest.approx(float(expected[0]), abs=1e-12)


@pytest.mark.parametrize("text", ["", " ", "   \n\t", "\xa0\u3000"])
def test_blank_text_scores_zero(text):
    assert toxicity_score(text) == 0.0


def test_generated_texts_match_the_library():
    # Seeded mixes of vocabulary terms, stop words, unknown words, digits and punctuation, so
    # equivalence is checked even where the shared data set is not available.
    rng = random.Random(20240617)
    vocabulary = sorted(vectorizer.vocabulary_)
    stop_words = sorted(vectorizer.get_stop_words())
    letters = "abcdefghijklmnopqrstuvwxyzéüñß"
    punctuation = [".", ",", "!", "?", "!!!", "...", " - ", "'", '"', "\n", "\t", "  "]

    def word() -> str:
        kind = rng.random()
        if kind < 0.55:
            token = rng.choice(vocabulary)
        elif kind < 0.7:
            token = rng.choice(stop_words)
        elif kind < 0.9:
            token = "".join(rng.choices(letters, k=rng.randint(1, 12)))
        else:
            token = str(rng.randint(0, 10 ** rng.randint(1, 6)))
        case = rng.random()
        if case < 0.1:
            token = token.upper()
        elif case < 0.25:
            token = token.capitalize()
        return token + (rng.choice(punctuation) if rng.random() < 0.2 else "")

    texts = [" ".join(word() for _ in range(rng.randint(1, 80))) for _ in range(300)]
    _assert_matches_library(texts)


def test_realistic_comments_match_the_library():
    path = _shared_data() / JIGSAW
    if not path.is_file():
        pytest.skip(f"shared Jigsaw sample not found at {path} (set TALKBACK_SHARED_DATA)")
    with path.open(encoding="utf-8", newline="") as handle:
        texts = [row["comment_text"] for row in csv.DictReader(handle)]
    texts = [text for text in texts if text.strip()][:JIGSAW_ROWS]
    assert len(texts) == JIGSAW_ROWS
    _assert_matches_library(texts)


def test_scores_are_plain_floats_in_range():
    for text in ["Thanks for the clear report.", "you are a worthless idiot", "!!!"]:
        score = toxicity_score(text)
        assert type(score) is float
        assert 0.0 <= score <= 1.0


def test_importing_the_scorer_loads_nothing_until_first_use():
    # Workers import the scoring package at start; scikit-learn must stay unloaded until needed.
    code = (
        "import sys; import workers.scoring.toxicity as t; "
        "assert 'sklearn' not in sys.modules and 'profanity_check' not in sys.modules; "
        "t.load_model(); assert 'profanity_check' in sys.modules; "
        "assert t._model.cache_info().currsize == 1"
    )
    subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=REPO, check=True)


def test_load_model_is_idempotent():
    load_model()
    load_model()
    assert _model.cache_info().currsize == 1

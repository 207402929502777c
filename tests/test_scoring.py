"""Pure scoring: the whole comment score, the site policy and the decision with its reasons."""

import zlib

import pytest

from workers.scoring import Policy, Scores, ScoringContext, decide, score_comment
from workers.scoring.learned import (
    CHAR_BUCKETS,
    MAX_FEATURES,
    Counts,
    features,
    seed_counts,
    spam_probability,
)
from workers.scoring.normalize import normalize
from workers.scoring.policy import APPROVED, HELD, REJECTED
from workers.scoring.spam import link_domains
from workers.scoring.verdicts import ExternalVerdict

POLITE = "Thanks for the clear report, the timeline of the restoration was really useful."
DEFAULTS = Policy()


def test_polite_sentence_scores_low_and_is_approved():
    scores = score_comment(POLITE)
    assert scores.toxicity < 0.5
    assert scores.spam < 0.5
    assert decide(scores, DEFAULTS).status == APPROVED


@pytest.mark.parametrize(
    "text",
    [
        "you are a worthless idiot",
        "You are a worthless 1D10T",
        "you are a worthless i d i o t",
        "you are a worthless \u0456d\u0456\u043et",  # Cyrillic i and o look-alikes
        "you are a worthless idiooooot",
        "f*** off you m0r0n",
    ],
)
def test_insults_score_high_toxicity_however_they_are_written(text):
    assert score_comment(text).toxicity >= 0.9


def test_disguised_words_are_named_in_the_reasons():
    scores = score_comment("shut up you 1d10t")
    assert "words disguised to dodge filters: “1d10t”" in scores.toxicity_reasons


@pytest.mark.parametrize(
    ("text", "reason", "status"),
    [
        (
            "I will find where you live",
            "a threat: “I will find where you live”",
            HELD,
        ),
        (
            "nobody cares, k i l l  y o u r s e l f",
            "incitement to self-harm: “kill yourself” (written “k i l l  y o u r s e l f”)",
            REJECTED,
        ),
        ("these people are vermin", "dehumanizing language: “are vermin”", REJECTED),
    ],
)
def test_harmful_phrasings_the_model_misses_are_caught_and_quoted(text, reason, status):
    scores = score_comment(text)
    assert reason in scores.toxicity_reasons
    assert decide(scores, DEFAULTS).status == status


@pytest.mark.parametrize(
    "reported",
    [
        'He shouted "I will find where you live" at the bailiff and was fined.',
        "The court heard he told her “I will find where you live” twice.",
        "Her ex texted 'I will find where you live' and the police didn't act.",
    ],
)
def test_a_phrasing_in_quotation_marks_is_read_as_reported_speech(reported):
    scores = score_comment(reported)
    assert "a threat, in quotation marks: “I will find where you live”" in scores.toxicity_reasons
    assert decide(scores, DEFAULTS).status == APPROVED


def test_the_same_phrasing_as_the_authors_own_words_is_not_approved():
    scores = score_comment("Bailiff or not, I will find where you live.")
    assert "a threat: “I will find where you live”" in scores.toxicity_reasons
    assert decide(scores, DEFAULTS).status != APPROVED


def test_banned_words_reject_and_suspect_words_hold_with_the_listed_entry():
    policy = Policy(banned_words=("scum*",), suspect_words=("bridge",))
    banned = score_comment("Total scumbags, the lot of them", policy=policy)
    assert banned.rejects == ("banned word “scumbags” (listed as “scum*”)",)
    assert decide(banned, policy).status == REJECTED
    suspect = score_comment("The BRIDGE is open again", policy=policy)
    assert suspect.holds == ("suspect word “BRIDGE” (listed as “bridge”)",)
    assert decide(suspect, policy).status == HELD


def test_banned_words_are_matched_through_disguises():
    policy = Policy(banned_words=("idiot",))
    scores = score_comment("what an 1d10t", policy=policy)
    assert scores.rejects == ("banned word “idiot” (written “1d10t”) (listed as “idiot”)",)


def test_links_to_shorteners_and_denied_domains():
    policy = Policy(denied_domains=("casino.example",), allowed_domains=("gov.uk",))
    shortened = score_comment("Read this https://bit.ly/abc", policy=policy)
    assert "link to a URL shortener (bit.ly)" in shortened.spam_reasons
    blocked = score_comment("Play at https://www.win.casino.example/now", policy=policy)
    assert blocked.rejects == ("link to a blocked domain (casino.example)",)
    assert decide(blocked, policy).status == REJECTED
    allowed = score_comment("Figures at https://www.ons.gov.uk/data", policy=policy)
    assert not any("link" in reason for reason in allowed.spam_reasons)


def test_only_a_blocked_domain_rejects_not_a_reason_that_reads_like_one():
    verdict = ExternalVerdict("Akismet", "spam", "link to a blocked domain, says Akismet")
    scores = score_comment("Nice piece", ScoringContext(external=(verdict,)))
    assert "link to a blocked domain, says Akismet" in scores.spam_reasons
    assert scores.rejects == ()


def test_money_amounts_are_not_named_as_disguised_words():
    scores = score_comment("you are a worthless idiot, the $500 fine was deserved")
    assert scores.toxicity >= 0.5
    assert not any("disguised" in reason for reason in scores.toxicity_reasons)


def test_hold_links_policy_holds_any_link():
    policy = Policy(hold_links=True)
    scores = score_comment("Good summary at https://news.example/story", policy=policy)
    assert "has a link, and the site holds comments with links" in scores.holds
    assert decide(scores, policy).status == HELD
    assert decide(score_comment(POLITE, policy=policy), policy).status == APPROVED


def test_near_duplicates_and_velocity_come_from_the_context():
    context = ScoringContext(near_duplicates=4, commenter_recent=6, ip_recent=12)
    scores = score_comment(POLITE, context)
    assert "near-duplicate of 4 comments in the last hour" in scores.spam_reasons
    assert "6 comments from this commenter in the last 10 minutes" in scores.spam_reasons
    assert (
        "12 comments from this IP address in the last 10 minutes, with no usual volume here"
        in scores.spam_reasons
    )
    assert decide(scores, DEFAULTS).status == REJECTED


def test_contact_details_and_promotion_make_spam():
    text = "I make $500 a day working from home, WhatsApp me on +44 7700 900123"
    scores = score_comment(text)
    assert scores.spam >= 0.9
    reasons = " | ".join(scores.spam_reasons)
    assert "phone number" in reasons and "promotional phrases" in reasons


@pytest.mark.parametrize(
    ("toxicity", "spam_score", "policy", "status"),
    [
        (0.0, 0.0, DEFAULTS, APPROVED),
        (0.49, 0.49, DEFAULTS, APPROVED),
        (0.5, 0.0, DEFAULTS, HELD),  # exactly at the hold threshold
        (0.0, 0.5, DEFAULTS, HELD),
        (0.9, 0.0, DEFAULTS, REJECTED),  # exactly at the reject threshold
        (0.0, 0.9, DEFAULTS, REJECTED),
        (0.1, 0.95, DEFAULTS, REJECTED),  # toxicity approves, spam rejects: spam wins
        (0.6, 0.1, DEFAULTS, HELD),
        (0.6, 0.95, DEFAULTS, REJECTED),
        (0.3, 0.0, Policy(toxicity_hold=0.3, toxicity_reject=0.6), HELD),
        (0.6, 0.0, Policy(toxicity_hold=0.3, toxicity_reject=0.6), REJECTED),
        (0.0, 0.25, Policy(spam_hold=0.25, spam_reject=0.75), HELD),
        (0.0, 0.0, Policy(mode="pre"), HELD),  # pre-moderation holds everything
        (1.0, 1.0, Policy(mode="pre"), HELD),
    ],
)
def test_decide_strictest_verdict_wins_and_thresholds_are_inclusive(
    toxicity, spam_score, policy, status
):
    assert decide(Scores(toxicity, spam_score), policy).status == status


def test_decide_puts_the_deciding_reasons_first_then_the_signals():
    scores = Scores(0.02, 0.95, spam_reasons=("3 links (a.example, b.example, c.example)",))
    assert decide(scores, DEFAULTS).reasons == (
        "spam 0.95 ≥ reject threshold 0.90",
        "toxicity 0.02 below hold threshold 0.50",
        "spam: 3 links (a.example, b.example, c.example)",
    )


def test_threshold_wording_never_rounds_onto_the_other_side():
    reasons = decide(Scores(0.4999, 0.8999), DEFAULTS).reasons
    assert "toxicity 0.4999 below hold threshold 0.50" in reasons
    assert "spam 0.8999 ≥ hold threshold 0.50" in reasons


def test_pre_moderation_says_why_it_held():
    decision = decide(Scores(0.0, 0.0), Policy(mode="pre"))
    assert decision.reasons[0] == "the site pre-moderates every comment"


@pytest.mark.parametrize(
    ("prior", "status"),
    [(None, APPROVED), (0, HELD), (2, HELD), (3, APPROVED), (10, APPROVED)],
)
def test_new_commenters_first_comments_are_held(prior, status):
    policy = Policy(new_commenter_holds=3)
    decision = decide(Scores(0.0, 0.0), policy, prior_comments=prior)
    assert decision.status == status
    if status == HELD:
        assert decision.reasons[0] == (
            f"new commenter: {prior} published before, the site holds the first 3"
        )


def test_policy_round_trips_through_stored_settings_and_takes_defaults():
    policy = Policy(mode="pre", banned_words=("a*",), new_commenter_holds=2)
    assert Policy.from_dict(policy.to_dict()) == policy
    stored = {"spam_hold": 0.4, "unknown_setting": 1}
    assert Policy.from_dict(stored, toxicity_hold=0.3) == Policy(spam_hold=0.4, toxicity_hold=0.3)


def _features(text: str) -> list[str]:
    return features(normalize(text), link_domains(text))


def test_learned_model_without_site_decisions_uses_the_seed():
    spammy = spam_probability(_features("earn passive income with crypto, dm me"), Counts())
    ordinary = spam_probability(_features("the council meeting is on tuesday"), Counts())
    assert spammy > 0.5 > ordinary


def test_learned_model_learns_a_sites_decisions_and_can_forget_them():
    counts = Counts()
    text = "visit the lighthouse gift shop for tea towels"
    before = spam_probability(_features(text), counts)
    for _ in range(20):
        counts.learn(_features("lighthouse gift shop tea towels on sale"), is_spam=True)
        counts.learn(_features("the lighthouse keeper retired after forty years"), is_spam=False)
    after = spam_probability(_features(text), counts)
    assert after > before and after > 0.5
    for _ in range(20):
        counts.learn(_features("lighthouse gift shop tea towels on sale"), True, weight=-1)
        counts.learn(_features("the lighthouse keeper retired after forty years"), False, -1)
    assert spam_probability(_features(text), counts) == pytest.approx(before)


def test_learned_model_char_ngrams_catch_a_misspelled_spam_word():
    counts = Counts()
    for _ in range(20):
        counts.learn(_features("marmalade futures"), is_spam=True)
        counts.learn(_features("the lighthouse keeper retired after forty years"), is_spam=False)
    misspelled = _features("marmmalade")
    assert "marmmalade" not in counts.features
    assert spam_probability(misspelled, counts) > 0.5
    # Without its character n-grams the unseen word would be no evidence at all.
    words_only = [feature for feature in misspelled if not feature.startswith("c:")]
    assert spam_probability(words_only, counts) < 0.5


def test_char_ngram_features_are_hashed_and_bounded():
    grams = [f for f in _features("subscribe to my channel") if f.startswith("c:")]
    assert grams and all(len(f) == 7 and int(f[2:], 16) < CHAR_BUCKETS for f in grams)
    # A stable hash (not Python's salted hash()), so stored counts mean the same next process.
    assert f"c:{zlib.crc32(b' subs') % CHAR_BUCKETS:05x}" in grams
    assert len(_features(" ".join(f"word{n}" for n in range(500)))) == MAX_FEATURES
    assert not any(f.startswith("c:") for f in seed_counts().features)

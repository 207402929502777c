"""Pure unit tests of the text signals: normalization, word lists, harms, spam and MinHash."""

from __future__ import annotations

import pytest

from workers.scoring import similarity as sim
from workers.scoring.lexicon import HARMS, Match, find_harms, quote, word_list
from workers.scoring.normalize import normalize
from workers.scoring.spam import (
    Signal,
    combine,
    contact_signals,
    disguised_link_signal,
    learned_signal,
    link_domains,
    link_signals,
    near_duplicate_signal,
    promotional_signal,
    repetition_signal,
    shouting_signal,
    velocity_signal,
)

# --- normalize ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Case and NFKC.
        ("IDIOT", "idiot"),
        ("\uff49\uff44\uff49\uff4f\uff54", "idiot"),  # fullwidth
        ("\uff28\uff45\uff4c\uff4c\uff4f", "hello"),  # fullwidth
        ("ﬁne", "fine"),
        # Cyrillic look-alikes inside Latin words; whole-Cyrillic and Hebrew words stay.
        ("\u0456d\u0456\u043et", "idiot"),
        ("привет", "привет"),
        ("שלום עולם", "שלום עולם"),
        # Zero-width characters dropped.
        ("i\u200bdiot", "idiot"),
        ("id\u200di\ufeffot", "idiot"),
        # Leetspeak.
        ("1d10t", "idiot"),
        ("sh1t", "shit"),
        ("a$$hole", "asshole"),
        ("m0r0n", "moron"),
        ("w3 kn0w", "we know"),
        # Numbers are left alone.
        ("2024", "2024"),
        ("covid19", "covid19"),
        ("g20", "g20"),
        ("$500", "500"),
        ("40%", "40"),
        # Spaced letters and punctuation inside words.
        ("k i l l  y o u r s e l f", "kill yourself"),
        ("f.u.c.k", "fuck"),
        ("s-t-u-p-i-d", "stupid"),
        ("i_d_i_o_t", "idiot"),
        ("snake_case_name", "snake case name"),
        # Masked letters.
        ("f***", "fuck"),
        ("sh*t", "shit"),
        ("a**hole", "asshole"),
        ("f***ing", "fucking"),
        # Stretched letters; double letters stay.
        ("idiooooot", "idiot"),
        ("shuuuut uppp", "shut up"),
        ("good", "good"),
        ("cool", "cool"),
        ("You are an 1d10t!", "you are an idiot"),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


def test_normalize_keeps_originals_for_quoting() -> None:
    words = normalize("You are an 1d10t!").words
    assert [(word.text, word.original) for word in words] == [
        ("you", "You"),
        ("are", "are"),
        ("an", "an"),
        ("idiot", "1d10t!"),
    ]


def test_spaced_run_words_share_the_original_run() -> None:
    words = normalize("k i l l  y o u r s e l f now").words
    assert [(word.text, word.original) for word in words] == [
        ("kill", "k i l l  y o u r s e l f"),
        ("yourself", "k i l l  y o u r s e l f"),
        ("now", "now"),
    ]


@pytest.mark.parametrize(
    ("raw", "disguised"),
    [
        ("you are an 1d10t", ["idiot"]),
        ("what an \u0456d\u0456\u043et", ["idiot"]),
        ("f***ing sh*t", ["fucking", "shit"]),
        ("shuuuut uppp please", ["shut", "up"]),
        ("i\u200bdiot", ["idiot"]),
        ("You are an IDIOT!", []),
        ("Good morning, everyone.", []),
        ("In 2024 covid19 cases fell 40%", []),
        ("привет мир", []),
    ],
)
def test_disguised_lists_only_disguised_words(raw: str, disguised: list[str]) -> None:
    assert [word.text for word in normalize(raw).disguised()] == disguised


def test_leet_dollar_signs_at_end_of_word() -> None:
    assert normalize("kick a$$").text == "kick ass"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("kick a$$!", "kick ass"),
        ("the bo$$", "the boss"),
        # One trailing '$' is a currency sign, not a letter.
        ("in US$", "in us"),
        ("1d10t!", "idiot"),
    ],
)
def test_leet_trailing_symbols(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


def test_www_is_not_shrunk_like_a_stretched_letter() -> None:
    assert normalize("www casino dot com").text == "www casino dot com"
    assert normalize("wwwwww").text == "w"


@pytest.mark.parametrize("raw", ["I earn $500 per day", "a $1000 fine", "£20 or €30"])
def test_money_amounts_are_not_disguised_words(raw: str) -> None:
    assert normalize(raw).disguised() == []


def test_normalized_keeps_the_raw_text() -> None:
    assert normalize("go to example[.]com").raw == "go to example[.]com"


# --- word lists --------------------------------------------------------------------------------


def _entries(entries: tuple[str, ...], text: str) -> list[str]:
    return [match.entry for match in word_list(entries).find(normalize(text))]


@pytest.mark.parametrize(
    ("entries", "text", "found"),
    [
        (("idiot*",), "idiots everywhere", ["idiot*"]),
        (("idiot*",), "an idiot", ["idiot*"]),
        (("idiot*",), "idiocy", []),
        (("st?pid",), "so stupid", ["st?pid"]),
        (("st?pid",), "so stpid", []),
        (("st?pid",), "so stuupid", []),
        (("go away",), "please go away now", ["go away"]),
        (("go away",), "go far away", []),
        (("kill yourself",), "k i l l  y o u r s e l f", ["kill yourself"]),
        (("idiot",), "you 1d10t", ["idiot"]),
        (("idiot",), "what an \u0456d\u0456\u043et", ["idiot"]),
        (("fuck",), "f***", ["fuck"]),
        (("ass",), "the class took the assessment", []),
        (("ass",), "what an ass", ["ass"]),
        (("idiot",), "idiot idiot IDIOT", ["idiot"]),
        (("idiot", "moron", "jerk"), "moron and idiot", ["idiot", "moron"]),
        (("*",), "anything at all", []),
        (("", "  "), "anything at all", []),
    ],
)
def test_word_list_find(entries: tuple[str, ...], text: str, found: list[str]) -> None:
    assert _entries(entries, text) == found


def test_word_list_match_records_matched_and_original() -> None:
    [match] = word_list(("idiot",)).find(normalize("You are a 1d10t, really"))
    assert match == Match(entry="idiot", matched="idiot", original="1d10t")


def test_word_list_entries_are_normalized_like_comments() -> None:
    assert _entries(("1D10T",), "what an idiot") == ["1D10T"]


@pytest.mark.parametrize(
    ("match", "quoted"),
    [
        (Match("idiot", "idiot", "idiot"), "“idiot”"),
        (Match("idiot", "idiot", "Idiot!"), "“Idiot”"),
        (Match("idiot", "idiot", "1d10t"), "“idiot” (written “1d10t”)"),
        (Match("idiot", "idiot", "1d10t,"), "“idiot” (written “1d10t”)"),
        (
            Match("kill yourself", "kill yourself", "k i l l  y o u r s e l f"),
            "“kill yourself” (written “k i l l  y o u r s e l f”)",
        ),
    ],
)
def test_quote(match: Match, quoted: str) -> None:
    assert quote(match) == quoted


def test_quote_from_a_real_match() -> None:
    [match] = word_list(("idiot",)).find(normalize("what a 1d10t"))
    assert quote(match) == "“idiot” (written “1d10t”)"


# --- harms -------------------------------------------------------------------------------------


def test_harm_kinds() -> None:
    assert {harm.kind for harm in HARMS} == {
        "incitement to self-harm",
        "a call to exterminate people",
        "a threat",
        "a personal insult",
        "dehumanizing language",
    }


@pytest.mark.parametrize(
    ("text", "kind", "matched"),
    [
        ("kill yourself", "incitement to self-harm", "kill yourself"),
        ("Just go kill yourself.", "incitement to self-harm", "go kill yourself"),
        ("k i l l  y o u r s e l f", "incitement to self-harm", "kill yourself"),
        ("go jump off a bridge", "incitement to self-harm", "go jump off a bridge"),
        ("kys", "incitement to self-harm", "kys"),
        ("I will find where you live", "a threat", "i will find where you live"),
        ("I know where you live", "a threat", "i know where you live"),
        ("someone should shoot him", "a threat", "someone should shoot him"),
        ("i'll find you", "a threat", "i ll find you"),
        ("they should be exterminated", "a call to exterminate people", "should be exterminated"),
        ("exterminate them all", "a call to exterminate people", "exterminate them"),
        ("these people are vermin", "dehumanizing language", "are vermin"),
        ("subhuman", "dehumanizing language", "subhuman"),
        ("sub humans", "dehumanizing language", "sub humans"),
        ("you are an idiot", "a personal insult", "you are an idiot"),
        ("you're such a moron", "a personal insult", "you re such a moron"),
        ("u r a 1d10t", None, None),
    ],
)
def test_find_harms(text: str, kind: str | None, matched: str | None) -> None:
    found = {harm.kind: match.matched for harm, match in find_harms(normalize(text))}
    if kind is None:
        assert found == {}
    else:
        assert kind in found
        assert found[kind] == matched


def test_harm_match_quotes_the_disguised_original() -> None:
    [(harm, match)] = find_harms(normalize("k i l l  y o u r s e l f"))
    assert harm.kind == "incitement to self-harm"
    assert harm.score == 0.96
    assert quote(match) == "“kill yourself” (written “k i l l  y o u r s e l f”)"


def test_harm_scores() -> None:
    assert {harm.kind: harm.score for harm in HARMS} == {
        "incitement to self-harm": 0.96,
        "a call to exterminate people": 0.96,
        "a threat": 0.85,
        "a personal insult": 0.75,
        "dehumanizing language": 0.8,
    }


@pytest.mark.parametrize(
    "text",
    [
        "You will get a refund",
        "the killer app",
        "this policy is killing small shops",
        "the shooting guard scored 30 points",
        "police said the suspect was shot",
        "I live where the bridge is",
        "the pest control firm removed the rats",
        "The class assessment is due on Friday",
        "The minister said the plan would kill off the high street",
        "We know where the money went",
        "The gas prices hurt families this winter",
        "Analysts expect the merger to go ahead",
        "The documentary about animals in the wild was superb",
    ],
)
def test_innocent_news_sentences_have_no_harms(text: str) -> None:
    assert find_harms(normalize(text)) == []


# --- spam: links -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "domains"),
    [
        (
            "see https://bit.ly/abc and www.Example.com/x and cheap-pills.shop/now",
            ["bit.ly", "example.com", "cheap-pills.shop"],
        ),
        ("visit http://WWW.Example.COM.", ["example.com"]),
        ("mail me a@b.com", []),
        ("no links here. Really.", []),
        ("e.g. the U.S. economy", []),
    ],
)
def test_link_domains(text: str, domains: list[str]) -> None:
    assert link_domains(text) == domains


def test_link_signals_count_and_shortener() -> None:
    signals, domains = link_signals("see https://bit.ly/abc")
    assert domains == ["bit.ly"]
    assert signals == [
        Signal(0.25, "1 link (bit.ly)"),
        Signal(0.6, "link to a URL shortener (bit.ly)"),
    ]


def test_link_signals_count_repeated_domains_once_in_reason() -> None:
    signals, domains = link_signals("a https://x.com b https://x.com c https://y.com")
    assert domains == ["x.com", "x.com", "y.com"]
    assert signals == [Signal(0.75, "3 links (x.com, y.com)")]


def test_link_signals_two_links_weight() -> None:
    signals, _ = link_signals("https://a.example.org and https://b.example.org")
    assert signals == [Signal(0.5, "2 links (a.example.org, b.example.org)")]


def test_link_signals_blocked_subdomain_and_allowed_domain() -> None:
    signals, domains = link_signals(
        "see https://shop.spam.example/x and https://news.bbc.co.uk/a",
        allowed=["bbc.co.uk"],
        denied=["spam.example"],
    )
    assert domains == ["shop.spam.example"]
    assert signals == [
        Signal(0.25, "1 link (shop.spam.example)"),
        Signal(0.95, "link to a blocked domain (spam.example)", rejects=True),
    ]


def test_only_the_blocked_domain_signal_rejects() -> None:
    signals, _ = link_signals("https://bit.ly/x https://spam.example/y", denied=["spam.example"])
    assert [signal.rejects for signal in signals] == [False, False, True]


def test_link_signals_allowed_domains_are_free() -> None:
    assert link_signals("https://www.theguardian.com/a", allowed=["www.theguardian.com"]) == (
        [],
        [],
    )


def test_link_signals_no_links() -> None:
    assert link_signals("Just an opinion.", denied=["spam.example"]) == ([], [])


# --- spam: contact details ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reasons"),
    [
        (
            "write to me at john.doe+x@mail.example.com",
            ["email address (john.doe+x@mail.example.com)"],
        ),
        ("call +1 555 010 2233 now", ["phone number (+1 555 010 2233)"]),
        ("(020) 7946-0018", ["phone number ((020) 7946-0018)"]),
        ("0541234567", ["phone number (0541234567)"]),
        ("call 555-1234", ["phone number (555-1234)"]),
        ("back in 1999 and 2024", []),
        ("room 12345", []),
        ("WhatsApp me", ["messenger contact (“WhatsApp”)"]),
        ("message me on t.me", ["messenger contact (“t.me”)"]),
        ("add me on telegram", ["messenger contact (“telegram”)"]),
        ("follow @dealsguy", ["messenger contact (“@dealsguy”)"]),
        ("@bob I agree", []),
        ("mail a@b.com", ["email address (a@b.com)"]),
        ("A sensible article.", []),
    ],
)
def test_contact_signals(text: str, reasons: list[str]) -> None:
    assert [signal.reason for signal in contact_signals(text)] == reasons


def test_contact_signal_weights() -> None:
    signals = contact_signals("mail a@b.com or call 0541234567 on WhatsApp")
    assert [signal.weight for signal in signals] == [0.3, 0.45, 0.45]


def test_contact_signals_telegram_link() -> None:
    assert [s.reason for s in contact_signals("find me on t.me/deals")] == [
        "messenger contact (“t.me”)"
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("chat on wa.me/15550102233", "messenger contact (“wa.me”)"),
        ("Contact me on Telegram.", "messenger contact (“Telegram”)"),
        ("add me on kik, thanks", "messenger contact (“kik”)"),
    ],
)
def test_contact_signals_messenger_before_a_path_or_punctuation(text: str, reason: str) -> None:
    assert reason in [signal.reason for signal in contact_signals(text)]


def test_contact_signals_large_number_is_not_a_phone() -> None:
    assert contact_signals("In 2024 the museum had 1 500 000 visitors") == []


@pytest.mark.parametrize("text", ["2.300.000 euros", "about 12 500 000 people"])
def test_contact_signals_thousands_separators_are_not_phones(text: str) -> None:
    assert contact_signals(text) == []


@pytest.mark.parametrize(
    "phone", ["+1 555 010 2233", "055-123-4567", "(212) 555-0100", "030 123 456", "555 010 2233"]
)
def test_contact_signals_phone_numbers_still_found(phone: str) -> None:
    assert contact_signals(f"call {phone} today") == [Signal(0.45, f"phone number ({phone})")]


# --- spam: promotion, disguised links, shouting, repetition ------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DM me", Signal(0.4, "promotional phrase “dm me”")),
        ("DM me and buy now", Signal(0.65, "promotional phrases “dm me”, “buy now”")),
        ("great article, thanks", None),
        ("The council discussed the budget", None),
    ],
)
def test_promotional_signal(text: str, expected: Signal | None) -> None:
    assert promotional_signal(normalize(text)) == expected


def test_promotional_signal_many_phrases() -> None:
    signal = promotional_signal(
        normalize("Work from home! DM me, check my profile, buy now, limited offer")
    )
    assert signal is not None
    assert signal.weight == 0.85
    assert signal.reason.startswith("promotional phrases ")
    # At most four phrases are quoted.
    assert signal.reason.count("“") == 4


@pytest.mark.parametrize(
    ("text", "phrase"),
    [("I earn $500 per day", "earn 500 per day"), ("Subscribe to my channel", "subscribe to my")],
)
def test_promotional_signal_counts_a_phrase_once(text: str, phrase: str) -> None:
    signal = promotional_signal(normalize(text))
    assert signal is not None
    assert signal.weight == 0.4
    assert signal.reason.startswith("promotional phrase “")
    assert phrase in signal.reason


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("visit www dot example dot com today", "www dot example dot com"),
        # Quoted as written, hyphen and brackets included.
        ("see cheap-pills dot xyz", "cheap-pills dot xyz"),
        ("cheap-pills dot net is the place", "cheap-pills dot net"),
        ("go to www casino dot com", "www casino dot com"),
        ("Visit Example [dot] NET", "Example [dot] NET"),
        ("example . com", "example . com"),
        # Spelled out letter by letter: matched on the normalized words.
        ("e x a m p l e dot com", "example dot com"),
        ("I work at example.com", None),
        ("A great article", None),
    ],
)
def test_disguised_link_signal(text: str, found: str | None) -> None:
    signal = disguised_link_signal(normalize(text))
    if found is None:
        assert signal is None
    else:
        assert signal == Signal(0.6, f"a web address written to dodge link filters (“{found}”)")


@pytest.mark.parametrize(
    "text",
    [
        "The dot com bubble burst in 2000",
        "Remember the dot com era?",
        "a dot com company",
        "He made a fortune in the dot com boom",
        "Pets dot com startups failed",
    ],
)
def test_disguised_link_signal_ignores_the_dot_com_era(text: str) -> None:
    assert disguised_link_signal(normalize(text)) is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("go to example[.]com", "example[.]com"),
        ("go to example(dot)com", "example(dot)com"),
        ("go to cheap-pills {.} net", "cheap-pills {.} net"),
    ],
)
def test_disguised_link_signal_bracketed_dot(text: str, found: str) -> None:
    signal = disguised_link_signal(normalize(text))
    assert signal == Signal(0.6, f"a web address written to dodge link filters (“{found}”)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("THIS IS ABSOLUTELY OUTRAGEOUS AND WRONG", Signal(0.35, "100% capital letters")),
        ("THIS IS ABSOLUTELY OUTRAGEOUS and wrong", Signal(0.35, "76% capital letters")),
        ("OK NATO", None),
        ("This is FINE but IMPORTANT stuff here", None),
        ("WOW https://example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaa THIS IS BAD", None),
        ("שלום עולם זה מאמר טוב מאוד באמת כן", None),
    ],
)
def test_shouting_signal(text: str, expected: Signal | None) -> None:
    assert shouting_signal(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("soooooo good", Signal(0.2, "repeated characters ('oooooo')")),
        ("!!!!!!", Signal(0.2, "repeated characters ('!!!!!!')")),
        ("a" * 20, Signal(0.2, "repeated characters ('aaaaaaaaaaaa')")),
        ("sooooo good", None),
        ("1000000 readers", None),
        ("good cool", None),
    ],
)
def test_repetition_signal(text: str, expected: Signal | None) -> None:
    assert repetition_signal(text) == expected


# --- spam: near duplicates, velocity, learned model, combine -----------------------------------


@pytest.mark.parametrize(
    ("count", "window", "expected"),
    [
        (0, 3600, None),
        (-1, 3600, None),
        (1, 3600, Signal(0.5, "near-duplicate of 1 comment in the last hour")),
        (2, 7200, Signal(0.7, "near-duplicate of 2 comments in the last 2 hours")),
        (4, 3600, Signal(0.9, "near-duplicate of 4 comments in the last hour")),
        (3, 60, Signal(0.9, "near-duplicate of 3 comments in the last minute")),
        (3, 600, Signal(0.9, "near-duplicate of 3 comments in the last 10 minutes")),
        (3, 90, Signal(0.9, "near-duplicate of 3 comments in the last 90 seconds")),
    ],
)
def test_near_duplicate_signal(count: int, window: int, expected: Signal | None) -> None:
    assert near_duplicate_signal(count, window) == expected


@pytest.mark.parametrize(
    ("count", "who", "window", "limit", "expected"),
    [
        (4, "this commenter", 60, 5, None),
        (
            5,
            "this commenter",
            60,
            5,
            Signal(0.4, "5 comments from this commenter in the last minute"),
        ),
        (
            9,
            "this IP address",
            60,
            5,
            Signal(0.4, "9 comments from this IP address in the last minute"),
        ),
        (
            10,
            "this commenter",
            3600,
            5,
            Signal(0.7, "10 comments from this commenter in the last hour"),
        ),
        (3, "this commenter", 60, 0, None),
    ],
)
def test_velocity_signal(
    count: int, who: str, window: int, limit: int, expected: Signal | None
) -> None:
    assert velocity_signal(count, who, window, limit) == expected


@pytest.mark.parametrize(
    ("probability", "decisions", "weight", "reason"),
    [
        (0.5, 0, None, None),
        (0.2, 1000, None, None),
        # The seed alone says nothing: the semantic model reads spam from day one.
        (0.9, 0, None, None),
        (0.99, 19, None, None),
        (
            0.9,
            200,
            0.45,
            "the site's learned spam model rates it 0.90 (trained on 200 moderator decisions)",
        ),
        (
            0.8,
            1234,
            0.8 * 1234 / 1434,
            "the site's learned spam model rates it 0.80 (trained on 1,234 moderator decisions)",
        ),
    ],
)
def test_learned_signal(
    probability: float, decisions: int, weight: float | None, reason: str | None
) -> None:
    signal = learned_signal(probability, decisions)
    if weight is None:
        assert signal is None
    else:
        assert signal is not None
        assert signal.weight == pytest.approx(weight)
        assert signal.reason == reason


@pytest.mark.parametrize(
    ("weights", "score"),
    [
        ([], 0.0),
        ([0.5], 0.5),
        ([0.5, 0.5], 0.75),
        ([0.25, 0.6, 0.95], 1 - 0.75 * 0.4 * 0.05),
        ([1.0, 0.1], 1.0),
    ],
)
def test_combine(weights: list[float], score: float) -> None:
    assert combine(Signal(weight, "") for weight in weights) == pytest.approx(score)


# --- similarity --------------------------------------------------------------------------------

THIRTY_WORDS = (
    "the council voted on tuesday to close the old library on main street and move its "
    "collection to the new community centre across the river next spring despite loud "
    "protests"
)
UNRELATED = (
    "my cat enjoys sleeping in warm sunny spots by the kitchen window every single afternoon "
    "while the birds sing outside and the neighbours mow their lawns"
)


def _sig(text: str) -> tuple[int, ...]:
    return sim.signature(normalize(text))


def test_thirty_word_fixture() -> None:
    assert len(THIRTY_WORDS.split()) == 30


def test_signature_shape_and_determinism() -> None:
    sig = _sig(THIRTY_WORDS)
    assert len(sig) == sim.BANDS * sim.ROWS
    assert sig == _sig(THIRTY_WORDS.upper() + "!")
    assert len(sim.band_keys(sig)) == sim.BANDS


def test_identical_texts_are_fully_similar() -> None:
    assert sim.similarity(_sig(THIRTY_WORDS), _sig(THIRTY_WORDS)) == 1.0


def test_one_word_edit_is_a_near_duplicate_candidate() -> None:
    words = THIRTY_WORDS.split()
    words[-1] = "by"
    first, second = _sig(THIRTY_WORDS), _sig(" ".join(words))
    assert sim.similarity(first, second) >= sim.NEAR_DUPLICATE_SIMILARITY
    assert set(sim.band_keys(first)) & set(sim.band_keys(second))


def test_unrelated_texts_are_not_similar() -> None:
    first, second = _sig(THIRTY_WORDS), _sig(UNRELATED)
    assert sim.similarity(first, second) < 0.3
    assert not set(sim.band_keys(first)) & set(sim.band_keys(second))


@pytest.mark.parametrize("text", ["", "   ", "!!! ... ???"])
def test_empty_text_has_empty_signature(text: str) -> None:
    sig = _sig(text)
    assert sig == ()
    assert sim.band_keys(sig) == []
    assert sim.similarity(sig, sig) == 0.0


def test_similarity_of_mismatched_lengths_is_zero() -> None:
    sig = _sig(THIRTY_WORDS)
    assert sim.similarity(sig, sig[:-1]) == 0.0


def test_short_text_has_a_signature() -> None:
    assert len(_sig("hello world")) == sim.BANDS * sim.ROWS


def test_pack_unpack_round_trip() -> None:
    sig = _sig(THIRTY_WORDS)
    data = sim.pack(sig)
    assert isinstance(data, bytes)
    assert len(data) == 8 * len(sig)
    assert sim.unpack(data) == sig
    assert sim.unpack(sim.pack(())) == ()


def test_signature_rows_use_distinct_hash_functions() -> None:
    assert len(set(sim._SALTS)) == sim.BANDS * sim.ROWS
    assert len(set(_sig(THIRTY_WORDS))) > 1


def test_partial_overlap_gives_a_partial_similarity() -> None:
    half = " ".join(THIRTY_WORDS.split()[:15]) + " " + " ".join(UNRELATED.split()[:15])
    assert 0.0 < sim.similarity(_sig(THIRTY_WORDS), _sig(half)) < 1.0

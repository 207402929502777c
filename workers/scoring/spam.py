"""Spam signals: links and domains, contact details, promotion, shouting, repeats and velocity."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .normalize import Normalized, listed

URL_PATTERN = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# Bare domains spammers write without a scheme ("cheap-pills.shop/now"), on common spam TLDs.
BARE_DOMAIN = re.compile(
    r"(?<![\w@.-])((?:[a-z0-9-]+\.)+(?:com|net|org|info|biz|io|co|me|ly|gl|gd|cc|gy|at|to|"
    r"xyz|top|shop|site|online|club|store|live|link|click|vip|win|bet|casino|loan|ru|cn|in|"
    r"us|uk))(?:/\S*)?(?![\w-])",
    re.IGNORECASE,
)
HOST = re.compile(r"^(?:https?://)?(?:[^@/\s]+@)?([^/:?#\s]+)", re.IGNORECASE)
# "www dot example dot com", "cheap-pills dot net", "example[.]com": a web address written to
# dodge link filters. Matched on the text as written (normalizing drops the hyphens and brackets),
# then on the normalized words (spaced letters, leetspeak). A name that is a common word, or
# "dot com" followed by a word about the era, is the 1990s boom ("the dot com bubble").
_DOT = r"(?:\s+dot\s+|\s+\.\s+|\s*[\[({<]\s*(?:\.|dot)\s*[\])}>]\s*)"
_TLD = r"(?:com|net|org|info|io|xyz)"
_NOT_A_NAME = (
    r"(?:the|an|this|that|these|those|his|her|its|our|their|my|your|early|late|old|first|"
    r"failed|former|big|whole|original|great)"
)
_ERA = (
    r"(?:bubble|boom|bust|crash|collapse|era|age|days|years|mania|craze|frenzy|hype|heyday|"
    r"company|companies|startups?|millionaires?|billionaires?|stocks?|shares|economy|"
    r"revolution|generation)"
)
DISGUISED_LINK = re.compile(
    rf"(?<![\w.-])(?:www(?:{_DOT}|\.|\s+))?(?!{_NOT_A_NAME}(?![\w-]))[a-z0-9][a-z0-9-]*[a-z0-9]"
    rf"{_DOT}{_TLD}(?![\w-])(?!\s+{_ERA}(?!\w))",
    re.IGNORECASE,
)
DISGUISED_LINK_WORDS = re.compile(
    rf"(?<!\S)(?:www (?:dot )?)?(?!{_NOT_A_NAME} )[a-z0-9]{{2,}} dot {_TLD}(?!\S)(?! {_ERA}(?!\S))"
)
SHORTENERS = frozenset(
    [
        "bit.ly",
        "tinyurl.com",
        "t.co",
        "goo.gl",
        "ow.ly",
        "is.gd",
        "buff.ly",
        "rebrand.ly",
        "cutt.ly",
        "shorturl.at",
        "tiny.cc",
        "rb.gy",
        "bl.ink",
        "t.ly",
        "s.id",
        "lnkd.in",
        "qr.ae",
        "adf.ly",
        "shorte.st",
        "bc.vc",
        "v.gd",
        "clck.ru",
        "u.to",
        "tinylink.net",
        "short.io",
        "snip.ly",
        "linktr.ee",
        "bit.do",
        "soo.gd",
        "t2m.io",
    ]
)

# Links to public bodies, courts, universities, reference works, fact-checkers, help lines'
# charities and established news outlets are citations, not promotion: like a site's own
# allowed domains, they don't count as links (a spammer gains nothing by adding one, since the
# other links and the text still count). Public bodies are matched by suffix, the rest by name
# (subdomains included).
PUBLIC_SUFFIXES = (
    ".gov",
    ".mil",
    ".edu",
    ".int",
    ".europa.eu",
    ".gov.uk",
    ".nhs.uk",
    ".police.uk",
    ".ac.uk",
    ".parliament.uk",
    ".gov.ie",
    ".gov.au",
    ".edu.au",
    ".gov.nz",
    ".govt.nz",
    ".ac.nz",
    ".gc.ca",
    ".gov.il",
    ".ac.il",
    ".gov.in",
    ".nic.in",
    ".ac.in",
    ".gov.za",
    ".ac.za",
    ".gouv.fr",
    ".bund.de",
)
SOURCES = frozenset(
    listed(
        """
    wikipedia.org wikimedia.org wiktionary.org archive.org doi.org arxiv.org nature.com
    science.org thelancet.com bmj.com nejm.org jamanetwork.com cochrane.org who.int un.org
    unicef.org unhcr.org oecd.org imf.org worldbank.org icrc.org redcross.org amnesty.org
    hrw.org msf.org bailii.org courtlistener.com supremecourt.uk justia.com snopes.com
    fullfact.org politifact.com factcheck.org apnews.com reuters.com afp.com bbc.co.uk bbc.com
    theguardian.com ft.com economist.com bloomberg.com wsj.com nytimes.com washingtonpost.com
    latimes.com usatoday.com npr.org pbs.org cnn.com nbcnews.com cbsnews.com abcnews.go.com
    foxnews.com politico.com politico.eu axios.com propublica.org theatlantic.com
    newyorker.com aljazeera.com dw.com france24.com euronews.com lemonde.fr spiegel.de
    telegraph.co.uk independent.co.uk thetimes.co.uk sky.com channel4.com itv.com rte.ie
    irishtimes.com independent.ie thejournal.ie abc.net.au smh.com.au theage.com.au sbs.com.au
    cbc.ca theglobeandmail.com nzherald.co.nz stuff.co.nz rnz.co.nz thehindu.com
    hindustantimes.com indianexpress.com ndtv.com timesofindia.indiatimes.com scroll.in
    ynet.co.il ynetnews.com haaretz.com haaretz.co.il timesofisrael.com jpost.com kan.org.il
    samaritans.org 988lifeline.org crisistextline.org mind.org.uk citizensadvice.org.uk
    stepchange.org moneyhelper.org.uk nationaldomesticviolencehotline.org refuge.org.uk
    childline.org.uk nspcc.org.uk lifeline.org.au beyondblue.org.au kidshelpline.com.au
    pieta.ie aware.ie
    """
    )
)


def is_public_source(domain: str) -> bool:
    """Whether a domain belongs to a public body or a well-known source (see SOURCES)."""
    return f".{domain}".endswith(PUBLIC_SUFFIXES) or domain_matches(domain, SOURCES) is not None


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Seven or more digits in a phone-like run: "+1 555 010 2233", "(020) 7946-0018", "0541234567".
PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d\s().-]{6,}\d(?![\w.])")
# A number with thousands separators ("1 500 000 visitors", "2.300.000"), not a phone number:
# those start with 0 or '+', or have a group that isn't three digits ("555 010 2233").
THOUSANDS = re.compile(r"[1-9]\d{0,2}([\s.])\d{3}(?:\1\d{3})*")
MESSENGER = re.compile(
    r"(?<!\S)(?:whatsapp|whats app|telegram|viber|signal app|wechat|kik|snapchat|skype|"
    # Followed by a space, a path ("t.me/deals") or punctuation ending a sentence.
    r"wa\.me|t\.me|line id)(?=$|[\s/,;:!?)]|\.(?!\w))|(?:^|\s)@[a-z0-9_]{4,}",
    re.IGNORECASE,
)

# Phrases comment spammers use, matched on normalized words. Kept to phrases rarely seen in
# genuine comments under news stories.
PROMOTIONAL = tuple(
    re.compile(r"(?<!\S)" + phrase + r"(?!\S)")
    for phrase in (
        r"(?:make|made|making|earn|earned|earning|earns) (?:over |up to |about )?\d[\d,]* "
        r"(?:a|per|every) (?:day|week|month|hour)",
        r"(?:work|working|job|jobs) from home",
        r"(?:extra|passive|monthly|daily|weekly) income",
        r"(?:made|make|earned|earn|making|earning) (?:over |up to |about |me )?\d+(?: \d{3})* "
        r"(?:in|last|this|per|a|every|each) (?:my first |one |a |the )?(?:day|week|month|year)",
        r"\d+ (?:returns?|profits?|roi)",
        r"(?:dm|message|inbox|pm|text) me",
        r"(?:ll|will) (?:dm|message|inbox|text) (?:you|u)",
        r"(?:check|see|visit) (?:out )?my (?:profile|page|bio)",
        r"(?:details|info|information|more) (?:on|in|at) my (?:page|profile|bio|channel)",
        r"search (?:it |for it |for us )?on google",
        r"(?:send|sending) \d+(?: \d+)? (?:eth|btc|bitcoin|usdt|ether)",
        r"(?:enter|chance) to win",
        r"(?:giving|give) away",
        r"(?:trading|crypto|ai) (?:bot|app|platform|software|robot)",
        r"(?:private|naughty|hot|sexy) (?:photos|pics|pictures|videos)",
        r"(?:earn|make) (?:money|cash|extra cash|extra money) (?:online|fast|from home)",
        r"guaranteed (?:returns?|profits?|income|results)",
        r"(?:investment|business) opportunity",
        r"(?:bitcoin|crypto|forex|btc|binary options?|nft) (?:trading|investment|mining|signals|"
        r"platform|expert|trader|account manager)",
        r"click (?:here|the link|on the link|my profile|my name)",
        r"(?:check out|visit|subscribe to|follow) my (?:channel|page|profile|website|site|blog|"
        r"store|shop|link)",
        r"link in (?:my )?(?:bio|profile)",
        r"(?:check out|check|watch|see|listen to|visit) (?:my|our) (?:new |latest )?(?:channel|"
        r"videos?|music|songs?|page|playlist|covers?|remix|vlogs?|account)",
        r"(?:subscribe|sub) (?:to )?(?:my|me|our)",
        r"please (?:subscribe|like|share|check|visit|support)",
        r"(?:like|thumbs up|upvote) (?:this|my) comment",
        r"(?:i m|im|i am) (?:a|an) (?:new |small |young |aspiring |upcoming )?(?:rapper|singer|"
        r"artist|youtuber|producer|musician)",
        r"(?:free|buy|cheap|real) (?:followers|likes|subscribers|views)",
        r"(?:limited|special|exclusive) (?:time )?offer",
        r"(?:promo|discount|coupon|bonus|referral) code",
        r"(?:buy|order) (?:now|today|online)",
        r"(?:sign up|join|register) (?:now|today|here|for free)",
        r"100 (?:free|guaranteed|legit)",
        r"(?:online )?(?:casino|betting|poker|slots|jackpot)",
        r"(?:viagra|cialis|weight loss pills|diet pills|male enhancement)",
        r"(?:instant|quick|easy|fast|payday) (?:loans?|cash|approval)",
        r"(?:dm|inbox|message|text|contact|whatsapp|email) me (?:for|on|at|now|today|via)",
        r"(?:for more|for details|for info)(?:rmation)? (?:contact|message|text|dm|visit)",
        r"(?:you|u) (?:can|could) (?:also )?(?:earn|make) ",
        r"(?:giveaway|free gift|claim your|you have won|you ve won|winner selected)",
        r"(?:hot|sexy|lonely) (?:singles|girls|women) (?:in your area|near you|waiting)",
    )
)

# Digits are left out: "1000000 readers" is a number, not a stretched word.
REPEATED_CHARACTER = re.compile(r"([^\s\d])\1{5,}")
# Shouting only counts on enough letters that "OK" or an acronym isn't flagged.
SHOUTING_MIN_LETTERS = 20
SHOUTING_SHARE = 0.7


@dataclass(frozen=True)
class Signal:
    """One spam signal: how much it weighs (0..1) and what a moderator should read."""

    weight: float
    reason: str
    # Set when the signal alone rejects the comment, whatever the score (a blocked domain).
    rejects: bool = False


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def link_domains(text: str) -> list[str]:
    """Return the domains the text links to, in order, lower case, without 'www.'."""
    domains = []
    for match in URL_PATTERN.finditer(text):
        host = HOST.match(match.group(0))
        if host:
            domains.append(host.group(1).lower().rstrip(".").removeprefix("www."))
    for match in BARE_DOMAIN.finditer(URL_PATTERN.sub(" ", text)):
        domains.append(match.group(1).lower().removeprefix("www."))
    return domains


def domain_matches(domain: str, listed: Iterable[str]) -> str | None:
    """Return the listed domain that `domain` is, or is a subdomain of, if any."""
    for entry in listed:
        entry = entry.lower().strip().removeprefix("www.")
        if entry and (domain == entry or domain.endswith("." + entry)):
            return entry
    return None


def link_signals(
    text: str, allowed: Iterable[str] = (), denied: Iterable[str] = ()
) -> tuple[list[Signal], list[str]]:
    """Weigh links: count, shorteners and denied domains; links to allowed domains and public
    sources are free, unless the site denies them.

    Returns the signals and the domains linked to that aren't allowed or public sources.
    """
    allowed, denied = tuple(allowed), tuple(denied)
    domains = [
        domain
        for domain in link_domains(text)
        if domain_matches(domain, denied)
        or not (domain_matches(domain, allowed) or is_public_source(domain))
    ]
    signals = []
    if domains:
        weight = {1: 0.25, 2: 0.5}.get(len(domains), 0.75)
        names = ", ".join(dict.fromkeys(domains))
        signals.append(Signal(weight, f"{_plural(len(domains), 'link')} ({names})"))
    shortened = sorted({domain for domain in domains if domain in SHORTENERS})
    if shortened:
        signals.append(Signal(0.6, f"link to a URL shortener ({', '.join(shortened)})"))
    blocked = sorted({entry for domain in domains if (entry := domain_matches(domain, denied))})
    if blocked:
        reason = f"link to a blocked domain ({', '.join(blocked)})"
        signals.append(Signal(0.95, reason, rejects=True))
    return signals, domains


def disguised_link_signal(text: Normalized) -> Signal | None:
    """Flag a web address spelled out to dodge link filters ("example dot com")."""
    match = DISGUISED_LINK.search(text.raw) or DISGUISED_LINK_WORDS.search(text.text)
    if match is None:
        return None
    return Signal(0.6, f"a web address written to dodge link filters (“{match.group(0)}”)")


def contact_signals(text: str) -> list[Signal]:
    """Flag contact details: email addresses, phone numbers and messenger handles."""
    signals = []
    emails = EMAIL.findall(text)
    if emails:
        signals.append(Signal(0.3, f"email address ({emails[0]})"))
    phones = [
        phone
        for phone in PHONE.findall(text)
        if sum(c.isdigit() for c in phone) >= 7 and not THOUSANDS.fullmatch(phone.strip())
    ]
    if phones:
        signals.append(Signal(0.45, f"phone number ({phones[0].strip()})"))
    messenger = MESSENGER.search(EMAIL.sub(" ", text))
    if messenger:
        signals.append(Signal(0.45, f"messenger contact (“{messenger.group(0).strip()}”)"))
    return signals


def promotional_signal(text: Normalized) -> Signal | None:
    """Flag phrases of comment spam (income claims, 'click here', crypto schemes...)."""
    joined = text.text
    found: list[str] = []
    spans: list[tuple[int, int]] = []
    for pattern in PROMOTIONAL:
        match = pattern.search(joined)
        # Patterns overlap ("subscribe to my channel" is two of them): a phrase counts once.
        if match and not any(match.start() < end and start < match.end() for start, end in spans):
            found.append(match.group(0))
            spans.append(match.span())
    if not found:
        return None
    weight = {1: 0.4, 2: 0.65}.get(len(found), 0.85)
    quoted = ", ".join(f"“{phrase.strip()}”" for phrase in found[:4])
    return Signal(weight, f"promotional {'phrase' if len(found) == 1 else 'phrases'} {quoted}")


def shouting_signal(text: str) -> Signal | None:
    """Flag text written mostly in capital letters (links aside: URLs are mostly lower case)."""
    letters = [char for char in URL_PATTERN.sub(" ", text) if char.isalpha()]
    cased = [char for char in letters if char.isupper() or char.islower()]
    if len(cased) < SHOUTING_MIN_LETTERS:
        return None
    share = sum(char.isupper() for char in cased) / len(cased)
    if share < SHOUTING_SHARE:
        return None
    return Signal(0.35, f"{share:.0%} capital letters")


def repetition_signal(text: str) -> Signal | None:
    """Flag a character repeated six or more times in a row (e.g. '!!!!!!' or 'soooooo')."""
    match = REPEATED_CHARACTER.search(text)
    if not match:
        return None
    return Signal(0.2, f"repeated characters ({match.group(0)[:12]!r})")


def near_duplicate_signal(count: int, window_seconds: int) -> Signal | None:
    """Flag text (nearly) the same as other recent comments anywhere on the site."""
    if count <= 0:
        return None
    weight = {1: 0.5, 2: 0.7}.get(count, 0.9)
    return Signal(
        weight, f"near-duplicate of {_plural(count, 'comment')} in the last {_span(window_seconds)}"
    )


def velocity_signal(count: int, who: str, window_seconds: int, limit: int) -> Signal | None:
    """Flag a commenter (or an IP address) posting faster than people write."""
    if limit <= 0 or count < limit:
        return None
    weight = 0.4 if count < 2 * limit else 0.7
    return Signal(
        weight, f"{_plural(count, 'comment')} from {who} in the last {_span(window_seconds)}"
    )


# An address's volume counts only beyond the commenter limit plus three times its usual volume
# (evenings run about that far above a day's average), and its signal stays weak: a mobile
# carrier's address (carrier-grade NAT) or an office network carries many readers, and a busy
# evening is not spam. A network (/24, /48) holds more readers than one address, so its limit
# is larger.
ADDRESS_SURGE = 3.0
ADDRESS_WEIGHT = 0.15
ADDRESS_STRONG_WEIGHT = 0.3
NETWORK_LIMIT_FACTOR = 4


def address_volume_signal(
    recent: int, usual: float, who: str, window_seconds: int, limit: int
) -> Signal | None:
    """Flag an address (or network) posting far above its own usual volume, as weak evidence."""
    if limit <= 0 or recent < limit + ADDRESS_SURGE * usual:
        return None
    strong = recent >= 2 * limit + 10 * usual
    if usual < 0.05:
        compared = "with no usual volume here"
    else:
        compared = f"{recent / usual:.0f} times its usual volume"
    return Signal(
        ADDRESS_STRONG_WEIGHT if strong else ADDRESS_WEIGHT,
        f"{_plural(recent, 'comment')} from {who} in the last {_span(window_seconds)}, {compared}",
    )


# The learned model's say grows with the site's own decisions. Its built-in seed alone (a few
# hundred generic examples) adds nothing to the semantic model's reading of spam and holds
# ordinary comments that cite sources (docs/quality.md), so it speaks only once the site's
# moderators have taught it something of their own.
MIN_DECISIONS = 20
TRUST_DECISIONS = 200


def learned_signal(probability: float, decisions: int) -> Signal | None:
    """Turn the site's learned spam probability into a signal once it leans towards spam."""
    if probability <= 0.5 or decisions < MIN_DECISIONS:
        return None
    weight = probability * decisions / (decisions + TRUST_DECISIONS)
    return Signal(
        weight,
        f"the site's learned spam model rates it {probability:.2f} "
        f"(trained on {decisions:,} moderator decisions)",
    )


def combine(signals: Iterable[Signal]) -> float:
    """Combine independent signals into one score: 1 - Π(1 - weight)."""
    remaining = 1.0
    for signal in signals:
        remaining *= 1.0 - signal.weight
    return 1.0 - remaining


def _span(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "hour" if hours == 1 else f"{hours} hours"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds} seconds"

"""Varied, harmless reader comments on a local news story, for seeding benchmark threads.

The moderation worker holds a comment that is a near-duplicate of another one on the site in
the last hour: MinHash estimate of the Jaccard similarity of their 3-word shingles >= 0.7
(workers/scoring/similarity.py, workers/activity.py). Templated seed texts get held that way
(125 of the 550 the bench used to post). Each comment here is 3 or 4 sentences from different
frames whose slots are filled from word lists, and a text is drawn again while it is within
DISTINCT of one already drawn. The semantic model misreads a few harmless phrasings (a question
followed by "Keep up the good work.", "photos", "the woman next door", "X says Y", "Greetings
from ..."); those are gone. Check both: `python bench/seed_text.py [--count N] [--seed S]
[--score]` prints the most similar pair and, with --score, the highest toxicity and spam the
worker's scorer gives (15,000 comments over five seeds: toxicity at most 0.14, spam at most 0.28;
a comment is held at 0.5).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path and its http.py would shadow the standard
# library's `http` (werkzeug and urllib import it): the repository root takes its place.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from workers.scoring import similarity  # noqa: E402
from workers.scoring.normalize import normalize  # noqa: E402

PEOPLE = [
    "My neighbour",
    "My sister",
    "A friend from work",
    "My grandfather",
    "My aunt",
    "Our local grocer",
    "My old teacher",
    "A colleague of mine",
    "My son",
    "My daughter",
    "The driver on my bus route",
    "My uncle",
    "Our landlord",
    "My cousin",
    "The man who runs the corner shop",
    "My partner",
    "An old school friend",
    "My mother",
]
PLACES = [
    "the harbour",
    "the old library",
    "the market square",
    "the riverside path",
    "the new bridge",
    "the train station",
    "the community garden",
    "the high street",
    "the town hall",
    "the football ground",
    "the maritime museum",
    "the swimming pool",
    "the park by the school",
    "the ferry terminal",
    "the bakery on Mill Lane",
    "the allotments",
    "the lighthouse",
    "the covered market",
    "the playground on Elm Road",
    "the bowling green",
    "the canal towpath",
    "the bandstand",
]
TIMES = [
    "this morning",
    "last weekend",
    "on Tuesday evening",
    "a few years ago",
    "back in the spring",
    "during the school holidays",
    "every summer",
    "yesterday afternoon",
    "last month",
    "on my way to work",
    "before the storm",
    "on Sunday",
    "at lunchtime",
    "after the parade",
]
TOPICS = [
    "the restoration plan",
    "the new bus timetable",
    "the repair budget",
    "the volunteer programme",
    "the change to opening hours",
    "the parking scheme",
    "the festival schedule",
    "the school lunch scheme",
    "the recycling service",
    "the cycle lane project",
    "the flood defence work",
    "the tree planting scheme",
    "the street lighting upgrade",
    "the library refurbishment",
    "the harbour wall repair",
    "the youth football league",
    "the night market",
    "the new pedestrian crossing",
    "the heritage trail",
    "the beach clean",
    "the ferry timetable",
    "the allotment waiting list",
]
ADJECTIVES = [
    "lovely",
    "useful",
    "thoughtful",
    "detailed",
    "fair",
    "careful",
    "clear",
    "balanced",
    "well written",
    "informative",
    "helpful",
    "interesting",
    "timely",
    "readable",
]
PIECES = ["report", "article", "write-up", "story", "update", "piece", "summary", "feature"]
FEELINGS = ["glad", "pleased", "happy", "relieved", "delighted", "grateful", "surprised"]
VISITS = [
    "walked past",
    "visited",
    "cycled to",
    "stopped by",
    "had lunch near",
    "took the children to",
    "drove past",
    "went for a run around",
    "met friends at",
    "sat for a while at",
]
LOOKS = [
    "it looked busier than usual",
    "everything was very tidy",
    "the benches had been freshly painted",
    "it was quieter than I expected",
    "it was full of families",
    "the flower beds were in bloom",
    "there was a queue for ice cream",
    "a brass band was rehearsing",
    "the new signs were easy to follow",
    "the paths had been swept",
]
VERDICTS = [
    "made a real difference",
    "could use a little more funding",
    "was long overdue",
    "has worked out well so far",
    "deserves more attention",
    "is the best news this year",
    "needs a few more weeks to settle in",
    "will help older residents most",
    "was handled sensibly",
    "has been popular with visitors",
]
STATUSES = [
    "is going ahead",
    "is finally finished",
    "will be reviewed next year",
    "got the approval it needed",
    "is on schedule",
    "came in under budget",
    "now includes weekends",
    "has a public meeting planned",
]
GROUPS = [
    "volunteers",
    "gardeners",
    "engineers",
    "librarians",
    "bus drivers",
    "lifeguards",
    "organisers",
    "shop owners",
    "nurses",
    "teachers",
    "park rangers",
    "local builders",
    "council staff",
    "fishermen",
]
LATER = [
    "next month",
    "later this year",
    "before the winter",
    "in a future issue",
    "once the work is done",
    "around the anniversary",
]
AREAS = [
    "the north shore",
    "the east end",
    "the far side of the river",
    "the top of the hill",
    "the old town",
    "the village",
    "the valley",
    "the seafront",
    "the new estate",
]
MOVED = [
    "a few years ago",
    "last spring",
    "in the nineties",
    "after our first child was born",
    "two summers ago",
    "when I retired",
]
EVENTS = [
    "the opening weekend",
    "the next market day",
    "the summer fair",
    "the regatta",
    "the autumn concert",
    "the open day",
    "the charity walk",
]
QUESTIONS = [
    "when {place} opens again",
    "whether {topic} covers {place}",
    "who to ask about {topic}",
    "whether {place} has a cafe",
    "how to join the {group} at {place}",
    "where to read the full plans for {topic}",
]
REMARKS = [
    "and the staff were kind to the dog",
    "and the view was wonderful",
    "and everyone was very friendly",
    "and the coffee was excellent",
    "and it brought back good memories",
    "and we stayed longer than planned",
    "and the children loved it",
]

# Titles and names of the seeded comments (neither is scored).
TITLES = [
    "A reader's view",
    "Good news",
    "From a neighbour",
    "A question",
    "Thank you",
    "Memories",
    "Well done",
    "Local view",
    None,
    None,
]
FIRST_NAMES = ["Ana", "Ben", "Chloe", "Dev", "Emre", "Fiona", "Gus", "Hana", "Ivo", "Jo", "Kai"]
LAST_NAMES = ["Abbott", "Brennan", "Costa", "Dunne", "Evans", "Fischer", "Grant", "Hughes", "Ito"]

# Seed texts stay below this estimated similarity to each other, well under the worker's
# near-duplicate threshold (0.7), since MinHash estimates wobble.
DISTINCT = 0.6

# One sentence per frame; a comment never uses a frame twice.
FRAMES = [
    "Thanks for the {adjective} {piece} about {topic}.",
    "I {visit} {place} {time} and {look}.",
    "According to the {group} I spoke to, {topic} {verdict}.",
    "I was {feeling} to read that {topic} {status}.",
    "Does anyone know {question}?",
    "A follow-up on {topic} {later} would be welcome.",
    "{person} and I {visit} {place} {time}, {remark}.",
    "The {group} at {place} were very helpful when I asked about {topic}.",
    "Well done to the {group} at {place}.",
    "Looking forward to {event} at {place}.",
    "As someone who grew up near {place}, I think {topic} {verdict}.",
    "We moved to {area} {moved}, and {place} was one of the first things we found.",
    "Around {area}, people have been talking about {topic} for weeks.",
]
# At most one, always last.
CLOSINGS = [
    "Cheers from {area}.",
    "Thanks again from {area}.",
]


def _fill(template: str, rng: random.Random) -> str:
    """Fill a frame's slots; nested slots (in QUESTIONS) are filled in turn."""
    lists = {
        "person": PEOPLE,
        "place": PLACES,
        "time": TIMES,
        "topic": TOPICS,
        "adjective": ADJECTIVES,
        "piece": PIECES,
        "feeling": FEELINGS,
        "visit": VISITS,
        "look": LOOKS,
        "verdict": VERDICTS,
        "status": STATUSES,
        "group": GROUPS,
        "later": LATER,
        "area": AREAS,
        "moved": MOVED,
        "event": EVENTS,
        "question": QUESTIONS,
        "remark": REMARKS,
    }
    while "{" in template:
        start = template.index("{")
        end = template.index("}", start)
        template = (
            template[:start] + rng.choice(lists[template[start + 1 : end]]) + template[end + 1 :]
        )
    return template


def comment_text(rng: random.Random) -> str:
    """One reader comment: 3 or 4 sentences from different frames, sometimes a closing line."""
    frames = rng.sample(FRAMES, rng.randint(3, 4))
    if rng.random() < 0.3:
        frames.append(rng.choice(CLOSINGS))
    return " ".join(_fill(frame, rng) for frame in frames)


def comment_texts(count: int, seed: int) -> list[str]:
    """`count` comments, the same for the same seed, no two of them alike (similarity < 0.6)."""
    rng = random.Random(seed)
    texts: list[str] = []
    signatures: list[tuple[int, ...]] = []
    while len(texts) < count:
        text = comment_text(rng)
        signature = similarity.signature(normalize(text))
        if all(similarity.similarity(signature, other) < DISTINCT for other in signatures):
            texts.append(text)
            signatures.append(signature)
    return texts


def comment_payload(text: str, rng: random.Random) -> dict:
    """The API body of a seeded comment: a reader's name, maybe a title, and the text."""
    payload = {"author_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", "body": text}
    title = rng.choice(TITLES)
    if title:
        payload["title"] = title
    return payload


def worst_pair(texts: list[str]) -> tuple[float, int]:
    """The highest estimated similarity between two of the texts, and how many pairs reach 0.7."""
    signatures = [similarity.signature(normalize(text)) for text in texts]
    worst, near = 0.0, 0
    for index, first in enumerate(signatures):
        for second in signatures[:index]:
            value = similarity.similarity(first, second)
            worst = max(worst, value)
            near += value >= similarity.NEAR_DUPLICATE_SIMILARITY
    return worst, near


def highest_scores(texts: list[str]) -> tuple[float, float]:
    """The highest toxicity and spam the worker's scorer (semantic model included) gives them."""
    from workers.scoring import semantic
    from workers.scoring.score import score_comment

    normalized = [normalize(text) for text in texts]
    readings = semantic.read([text.readable() for text in normalized])
    scores = [
        score_comment(text, normalized=norm, reading=reading)
        for text, norm, reading in zip(texts, normalized, readings, strict=True)
    ]
    return max(s.toxicity for s in scores), max(s.spam for s in scores)


def main() -> None:
    """Print a few comments, the most similar pair and, with --score, the highest scores."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=550)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--score", action="store_true", help="also score them (loads the model)")
    args = parser.parse_args()
    texts = comment_texts(args.count, args.seed)
    print("\n".join(texts[:5]))
    print("most similar pair {:.2f}, near-duplicate pairs {}".format(*worst_pair(texts)))
    if args.score:
        print("highest toxicity {:.3f}, highest spam {:.3f}".format(*highest_scores(texts)))


if __name__ == "__main__":
    main()

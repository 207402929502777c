"""Per-comment scoring time (ms): the whole score_comment with the semantic model, its parts,
and the profanity library against our replay of it. Run: .venv/bin/python bench/scoring.py"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Run as a script, this folder comes first on sys.path and its http.py would shadow the standard
# library's `http` (werkzeug and urllib import it): the repository root takes its place.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

JIGSAW = Path("toxicity") / "jigsaw_toxic_natural_4000.csv"

# News-comment-like texts of typical length (about 60-300 characters), mostly civil, some heated,
# a few abusive: the mix a comment section actually sees.
COMMENTS = [
    "Thanks for the clear report, the timeline of the restoration was really useful. I had no "
    "idea the original steel had to be shipped in from so far away.",
    "I drove over the bridge this morning and the new lanes are a big improvement, although the "
    "signage at the northern junction is still confusing for anyone who doesn't know the area.",
    "The council promised this would be finished in 2023. Three years late and 40% over budget, "
    "and nobody has been held responsible for any of it.",
    "Does anyone know whether the cycle path on the east side is open yet? The article doesn't "
    "say, and the council website still shows the old map.",
    "This is a ridiculous waste of public money and the minister should resign over it! How many "
    "nurses could we have paid with what they spent on this vanity project?",
    "Great photos. My grandfather worked on the original paint crew in the 1950s and he would "
    "have loved to see it looking like this again.",
    "Lazy journalism: you didn't even ask the unions what they think about the new rosters.",
    "Correction: the bridge opened in 1932, not 1933 as the second paragraph says. The plaque on "
    "the south tower has the date if anyone wants to check.",
    "you are a complete idiot and everyone here knows it, so stop posting the same nonsense under "
    "every single article about the bypass",
    "Shut up, nobody cares about your stupid opinion, moron. Go and bother someone else with your "
    "conspiracy videos.",
    "Traffic was terrible for months, but honestly the result looks worth it now. Credit where "
    "it's due to the crews who worked nights.",
    "Why are the tolls going up again? Nobody voted for this and the consultation was a sham.",
    "The engineers deserve credit; it's easy to complain and hard to build something that lasts "
    "a hundred years.",
    "I've lived here for thirty years and I have never seen the high street this empty. Parking "
    "charges are killing small shops, simple as that.",
    "Interesting piece, but the chart in the middle has its axes swapped, which makes the "
    "conclusion look the opposite of what the text says.",
    "What a load of crap. The reporter clearly has an agenda and it shows in every paragraph.",
    "My daughter's school was one of the ones affected. The teachers did an amazing job keeping "
    "the kids calm during the evacuation.",
    "The mayor is a liar and a coward, and anyone who still defends him is a fool.",
    "Could you publish the full report rather than just the summary? Readers can judge the "
    "numbers for themselves.",
    "Another article about house prices that never mentions the thousands of empty second homes "
    "in the county. Funny, that.",
    "Well done to the volunteers at the food bank. They don't get nearly enough recognition, and "
    "demand has doubled since the winter according to the figures in this piece.",
    "Get lost, you pathetic troll. Go back under your bridge and leave the adults to discuss the "
    "actual budget figures.",
    "The match report says 3-1 but the score in the headline is 2-1. Which is it? I was at the "
    "ground and I am fairly sure the third goal was disallowed for offside.",
    "I disagree with the columnist, but I appreciate that she sets out her reasoning clearly "
    "instead of just shouting.",
    "The hospital car park has been full since 7am every day this week. Staff are parking on "
    "the verges and getting fined for it.",
    "Absolute scumbags. Whoever vandalised the memorial should be ashamed of themselves.",
    "Is there any information about when the night buses will start running again after the "
    "strike?",
    "So the same consultants who designed the failed scheme are being paid to review it? You "
    "couldn't make it up.",
    "Lovely story. It's nice to read something positive for a change, and the picture of the two "
    "of them at the allotment made my morning.",
    "These protesters are a bunch of lazy, entitled brats who have never worked a day in their "
    "lives.",
    "The interview with the head teacher was excellent: measured, honest and full of detail.",
    "Your paywall is getting ridiculous. I subscribed last year and I still can't read half the "
    "local news.",
    "The river level gauge near the weir has been broken since January, so the flood warnings "
    "rely on guesswork upstream.",
    "What a stupid, stupid decision. Whoever signed this off should be fired immediately.",
    "I remember the old market hall before it burned down. The new design is a fair tribute to "
    "it, in my opinion.",
    "Please fix the comments page on mobile, the reply button covers the text and the font size "
    "setting resets every time the page reloads.",
    "He's a disgusting pig and the party should have thrown him out years ago, but they kept him "
    "because he brings in the donations.",
    "The statistics quoted here are from 2019; the 2024 figures tell a very different story.",
    "Good luck to the team in the final. The whole town will be watching, and the pub on the "
    "corner is putting the match on the big screen from two o'clock.",
    "Does the new timetable account for the school run? Last time the 8:10 was always full.",
    "Typical. Spend millions on a logo and cut the library opening hours. The children's reading "
    "group has already lost its Saturday session.",
    "Shut your mouth, you ignorant clown, you know nothing about farming. Try getting up at four "
    "every morning before you lecture us about subsidies.",
    "Thank you for covering this. The families have been asking for answers for over a decade.",
    "The planning committee meets on Thursday at 6pm and the public gallery is open to anyone.",
    "I can't believe people still fall for these scams. Check the sender address, folks!",
    "Brilliant reporting, as always. This is why local journalism matters: nobody else would have "
    "sat through four hours of committee meetings to find this.",
    "The landlord has ignored the damp for two winters and the council does nothing. It's a "
    "disgrace.",
    "Is it true that the park will close for the whole summer? That would be a real shame for "
    "the kids.",
    "What an absolute bunch of morons running this club. Sell it to someone who cares.",
    "Small point: the photo caption names the wrong councillor. The man on the left is the deputy "
    "leader, not the chair of the planning committee.",
]


def _percentile(samples: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of the samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def _load_texts(data: Path | None) -> tuple[list[str], str]:
    """Return the texts to score and a description of where they came from."""
    if data is None and os.environ.get("TALKBACK_SHARED_DATA"):
        candidate = Path(os.environ["TALKBACK_SHARED_DATA"]) / JIGSAW
        data = candidate if candidate.is_file() else None
    if data is None:
        return COMMENTS, f"{len(COMMENTS)} built-in comments"
    with data.open(encoding="utf-8", newline="") as handle:
        texts = [row["comment_text"] for row in csv.DictReader(handle)]
    texts = [text for text in texts if text.strip()]
    return texts, f"{len(texts)} comments from {data}"


def _time_calls(score: Callable[[str], float], texts: list[str], n: int) -> list[float]:
    """Time n single-comment calls, cycling through the texts; return milliseconds per call."""
    timings = []
    for i in range(n):
        text = texts[i % len(texts)]
        start = time.perf_counter()
        score(text)
        timings.append((time.perf_counter() - start) * 1000.0)
    return timings


def main() -> None:
    """Run the benchmark and print the summary, with a JSON line last."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="timed calls per scorer")
    parser.add_argument("--data", type=Path, help="CSV with a comment_text column (Jigsaw)")
    parser.add_argument("--threads", type=int, default=1, help="the semantic model's threads")
    args = parser.parse_args()

    from profanity_check import predict_prob

    from workers.scoring import score_comment, semantic
    from workers.scoring.normalize import normalize
    from workers.scoring.toxicity import load_model, toxicity_score

    def library(text: str) -> float:
        return float(predict_prob([text])[0])

    texts, source = _load_texts(args.data)
    load_model()
    started = time.perf_counter()
    semantic.load_model(args.threads)
    model_load_s = time.perf_counter() - started
    model = semantic.shared_model(args.threads)

    def read_one(text: str) -> object:
        return model.read([normalize(text).readable()])

    def score_one(text: str) -> object:
        return score_comment(text, reading=read_one(text)[0])

    # Warm every path (imports, caches, first-call allocations) before timing.
    for text in texts[:20]:
        library(text)
        toxicity_score(text)
        score_one(text)

    max_abs_diff = max(abs(library(text) - toxicity_score(text)) for text in texts[: args.n])
    library_ms = _time_calls(library, texts, args.n)
    fast_ms = _time_calls(toxicity_score, texts, args.n)
    lexical_ms = _time_calls(lambda text: score_comment(text, semantic_model=False), texts, args.n)
    read_ms = _time_calls(read_one, texts, args.n)
    # The whole pure scoring step: normalize, semantic model, profanity model, patterns, spam
    # signals, learned model.
    whole_ms = _time_calls(score_one, texts, args.n)
    # A worker reads its batch of up to 50 comments in one model call.
    batch = [normalize(texts[i % len(texts)]).readable() for i in range(50)]
    batch_ms = []
    for _ in range(max(1, args.n // 50)):
        start = time.perf_counter()
        model.read(batch)
        batch_ms.append((time.perf_counter() - start) * 1000.0 / len(batch))

    mean_chars = statistics.mean(len(texts[i % len(texts)]) for i in range(args.n))
    print(f"texts: {source}; {args.n} calls each; mean length {mean_chars:.0f} characters")
    print(f"semantic model built in {model_load_s:.1f} s, {args.threads} thread(s)")
    rows = [
        ("library predict_prob([text])", library_ms),
        ("toxicity_score", fast_ms),
        ("score_comment, lexical only", lexical_ms),
        ("semantic model, one comment", read_ms),
        ("semantic model, batch of 50", batch_ms),
        ("score_comment (everything)", whole_ms),
    ]
    for name, samples in rows:
        median, p95 = statistics.median(samples), _percentile(samples, 0.95)
        print(f"{name:30} median {median:8.4f} ms   p95 {p95:8.4f} ms")
    library_median, fast_median = statistics.median(library_ms), statistics.median(fast_ms)
    print(f"max |fast - library| over {min(args.n, len(texts))} texts: {max_abs_diff:.3g}")
    summary = {
        "library_median_ms": round(library_median, 4),
        "library_p95_ms": round(_percentile(library_ms, 0.95), 4),
        "fast_median_ms": round(fast_median, 5),
        "fast_p95_ms": round(_percentile(fast_ms, 0.95), 5),
        "speedup": round(library_median / fast_median, 1),
        "score_comment_median_ms": round(statistics.median(whole_ms), 4),
        "score_comment_p95_ms": round(_percentile(whole_ms, 0.95), 4),
        "score_comment_vs_library": round(statistics.median(whole_ms) / library_median, 3),
        "lexical_median_ms": round(statistics.median(lexical_ms), 4),
        "semantic_one_median_ms": round(statistics.median(read_ms), 4),
        "semantic_batched_median_ms_per_comment": round(statistics.median(batch_ms), 4),
        "model_load_s": round(model_load_s, 2),
        "threads": args.threads,
        "max_abs_diff": max_abs_diff,
        "n": args.n,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

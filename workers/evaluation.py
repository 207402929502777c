"""Evaluate the real scoring code on a labelled dataset: ROC-AUC, decision rates, spam F1.

Datasets are CSV files with `text,label` (label ok, toxic or spam; an optional `category`
column gets its own rows in the table), or one of the public sets in ../shared/data read
through a converter (`--format youtube|jigsaw|davidson|sms|hatecheck`).

Two setups can be scored side by side: a policy (the site settings, as JSON) and a model,
`full` (the semantic model with every other signal) or `lexical` (without the semantic model:
the engine as it was before it, for comparison).
"""

from __future__ import annotations

import csv
import html
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .scoring import Policy, ScoringContext, decide, score_comment
from .scoring.learned import Counts, comment_features
from .scoring.normalize import normalize
from .scoring.policy import APPROVED, HELD, REJECTED

LABELS = ("ok", "toxic", "spam")
FORMATS = ("csv", "youtube", "jigsaw", "davidson", "sms", "hatecheck")
MODELS = ("full", "lexical")
# Texts read by the semantic model at once: large enough to batch, small enough for progress.
READ_BATCH = 64


class DatasetError(ValueError):
    """A dataset that can't be read, with a message saying what to fix."""


@dataclass(frozen=True)
class Row:
    """One labelled comment."""

    text: str
    label: str
    category: str
    group: str = ""


@dataclass(frozen=True)
class Scored:
    """A row with its scores and the default policy's decision."""

    row: Row
    toxicity: float
    spam: float
    status: str


def guess_format(path: Path) -> str:
    """Guess a dataset's format from its file name (the shared sets keep their names)."""
    name = path.name.lower()
    for fmt, marker in (
        ("youtube", "youtube"),
        ("jigsaw", "jigsaw"),
        ("davidson", "davidson"),
        ("sms", "smsspam"),
        ("hatecheck", "test_suite_cases"),
    ):
        if marker in name:
            return fmt
    return "csv"


def load_rows(path: Path, fmt: str = "csv", group_column: str | None = None) -> list[Row]:
    """Read a dataset into labelled rows, converting the public sets' labels."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    with path.open(encoding="utf-8", newline="") as handle:
        if fmt == "sms":
            return [_sms_row(line, number) for number, line in enumerate(handle, 1) if line.strip()]
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or [])
        needed = {
            "csv": {"text", "label"},
            "youtube": {"CONTENT", "CLASS"},
            "jigsaw": {"comment_text", "toxic"},
            "davidson": {"tweet", "class"},
            "hatecheck": {"test_case", "label_gold", "functionality"},
        }[fmt]
        if not needed <= columns:
            raise DatasetError(
                f"{path}: a {fmt} dataset needs the columns {', '.join(sorted(needed))}; "
                f"this one has {', '.join(sorted(columns)) or 'none'}"
            )
        if group_column and group_column not in columns:
            raise DatasetError(f"{path}: there is no column {group_column!r} to group by")
        convert = {
            "csv": _csv_row,
            "youtube": _youtube_row,
            "jigsaw": _jigsaw_row,
            "davidson": _davidson_row,
            "hatecheck": _hatecheck_row,
        }[fmt]
        rows = []
        for number, record in enumerate(reader, 2):
            row = convert(record, number)
            if group_column:
                row = Row(row.text, row.label, row.category, record[group_column])
            rows.append(row)
        return rows


def _csv_row(record: dict, number: int) -> Row:
    label = (record["label"] or "").strip().lower()
    if label not in LABELS:
        raise DatasetError(f"line {number}: label {label!r} is not one of {', '.join(LABELS)}")
    return Row(record["text"] or "", label, (record.get("category") or label).strip())


def _youtube_row(record: dict, number: int) -> Row:
    # The YouTube API returned HTML-escaped text with byte-order marks; readers type neither.
    text = html.unescape((record["CONTENT"] or "").replace("\ufeff", ""))
    label = "spam" if record["CLASS"].strip() == "1" else "ok"
    return Row(text, label, label)


def _jigsaw_row(record: dict, number: int) -> Row:
    label = "toxic" if record["toxic"].strip() == "1" else "ok"
    return Row(record["comment_text"], label, label)


def _davidson_row(record: dict, number: int) -> Row:
    # Classes: 0 hate speech, 1 offensive language, 2 neither.
    category = {"0": "hate", "1": "offensive", "2": "neither"}[record["class"].strip()]
    label = "ok" if category == "neither" else "toxic"
    return Row(html.unescape(record["tweet"]), label, category)


def _hatecheck_row(record: dict, number: int) -> Row:
    # HateCheck (Röttger et al. 2021) labels hate against groups; abuse aimed at one person
    # ("target_indiv_nh") is "not hateful" there, but a news site's moderators remove it too.
    functionality = record["functionality"].strip()
    hateful = record["label_gold"].strip() == "hateful" or functionality == "target_indiv_nh"
    return Row(record["test_case"].strip(), "toxic" if hateful else "ok", functionality)


def _sms_row(line: str, number: int) -> Row:
    label, _, text = line.rstrip("\n").partition("\t")
    if label not in ("ham", "spam"):
        raise DatasetError(f"line {number}: expected 'ham' or 'spam' then a tab")
    label = "ok" if label == "ham" else "spam"
    return Row(text, label, label)


def score_rows(
    rows: Iterable[Row],
    policy: Policy | None = None,
    learned: Counts | None = None,
    progress: Callable[[int], None] = lambda advanced: None,
    model: str = "full",
) -> list[Scored]:
    """Score each row as from an established commenter and decide it under the policy."""
    from .scoring import semantic

    if model not in MODELS:
        raise ValueError(f"model {model!r} is not one of {', '.join(MODELS)}")
    policy = policy or Policy()
    context = ScoringContext(learned=learned)
    rows = list(rows)
    scored = []
    for start in range(0, len(rows), READ_BATCH):
        batch = rows[start : start + READ_BATCH]
        texts = [normalize(row.text) for row in batch]
        readings = (
            semantic.read([text.readable() for text in texts])
            if model == "full"
            else [None] * len(batch)
        )
        for row, text, reading in zip(batch, texts, readings, strict=True):
            scores = score_comment(
                row.text,
                context,
                policy,
                normalized=text,
                reading=reading,
                semantic_model=model == "full",
            )
            decision = decide(scores, policy)
            scored.append(Scored(row, scores.toxicity, scores.spam, decision.status))
        progress(len(batch))
    return scored


def leave_one_group_out(
    rows: list[Row],
    policy: Policy | None = None,
    progress=lambda advanced: None,
    model: str = "full",
) -> tuple[list[Scored], dict[str, dict]]:
    """Score each group with the learned model trained on the other groups' labels only.

    The other groups' rows are fed to the model as moderators' decisions would be: spam rows
    as rejected spam, every other row as approved.
    """
    groups = sorted({row.group for row in rows})
    row_features = [comment_features(row.text) for row in rows]
    scored: list[Scored] = []
    per_group = {}
    for group in groups:
        counts = Counts()
        for row, feature_list in zip(rows, row_features, strict=True):
            if row.group != group:
                counts.learn(feature_list, row.label == "spam")
        held_out = [row for row in rows if row.group == group]
        result = score_rows(held_out, policy, counts, progress, model)
        per_group[group] = spam_f1(result, (policy or Policy()).spam_hold)
        scored += result
    return scored, per_group


def roc_auc(negatives: list[float], positives: list[float]) -> float | None:
    """Return the ROC-AUC: the chance a positive outscores a negative (ties count half)."""
    if not negatives or not positives:
        return None
    ranked = sorted([(value, 0) for value in negatives] + [(value, 1) for value in positives])
    rank_sum, index = 0.0, 0
    while index < len(ranked):
        end = index
        while end < len(ranked) and ranked[end][0] == ranked[index][0]:
            end += 1
        average_rank = (index + 1 + end) / 2  # ranks are 1-based; ties share the average
        rank_sum += average_rank * sum(label for _, label in ranked[index:end])
        index = end
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def spam_f1(scored: list[Scored], threshold: float) -> dict:
    """Return precision, recall and F1 of 'spam score at or above the hold threshold'."""
    tp = sum(1 for s in scored if s.row.label == "spam" and s.spam >= threshold)
    fp = sum(1 for s in scored if s.row.label != "spam" and s.spam >= threshold)
    fn = sum(1 for s in scored if s.row.label == "spam" and s.spam < threshold)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "rows": len(scored)}


def summary(scored: list[Scored]) -> dict:
    """Return the headline metrics of a scored dataset."""
    by_label = defaultdict(list)
    for item in scored:
        by_label[item.row.label].append(item)
    ok, toxic, spam = by_label["ok"], by_label["toxic"], by_label["spam"]
    bad = toxic + spam

    def share(items: list[Scored], status: str) -> float | None:
        return round(sum(i.status == status for i in items) / len(items), 4) if items else None

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    categories: dict[str, list[Scored]] = defaultdict(list)
    for item in scored:
        categories[item.row.category].append(item)
    return {
        "rows": len(scored),
        "toxic_auc": rounded(roc_auc([i.toxicity for i in ok], [i.toxicity for i in toxic])),
        "spam_auc": rounded(roc_auc([i.spam for i in ok], [i.spam for i in spam])),
        "approved_bad_rate": share(bad, APPROVED),
        "approved_ok_rate": share(ok, APPROVED),
        "held_rate": share(scored, HELD),
        "rejected_rate": share(scored, REJECTED),
        "rejected_ok_rate": share(ok, REJECTED),
        "categories": {
            category: {
                "label": items[0].row.label,
                "rows": len(items),
                "approved_rate": share(items, APPROVED),
                "held_rate": share(items, HELD),
                "rejected_rate": share(items, REJECTED),
            }
            for category, items in sorted(categories.items())
        },
    }


def table(scored: list[Scored]) -> str:
    """Return a readable table of decisions per category."""
    lines = [
        f"{'category':<14}{'label':<7}{'rows':>6}{'approved':>10}{'held':>8}{'rejected':>10}",
    ]
    rates = _rates(scored)
    for category, label in sorted(rates, key=lambda key: (key[1], key[0])):
        total, *shares = rates[(category, label)]
        lines.append(
            f"{category[:13]:<14}{label:<7}{total:>6}"
            + "".join(
                f"{share:>{width}.1%}" for share, width in zip(shares, (10, 8, 10), strict=True)
            )
        )
    return "\n".join(lines)


def side_by_side(first: list[Scored], second: list[Scored], names: tuple[str, str]) -> str:
    """Return a table of two setups' decisions per category, approved/held/rejected each."""
    columns = [_rates(first), _rates(second)]
    keys = sorted(set(columns[0]) | set(columns[1]), key=lambda key: (key[1], key[0]))
    width = max(25, *(len(name) + 2 for name in names))
    lines = [
        f"{'':<21}{'':>6}" + "".join(f"{name[: width - 2]:>{width}}" for name in names),
        f"{'category':<14}{'label':<7}{'rows':>6}" + f"{'approved/held/rejected':>{width}}" * 2,
    ]
    for key in keys:
        total = next(column[key][0] for column in columns if key in column)
        cells = [
            f"{'/'.join(f'{rate:.0%}' for rate in column[key][1:]):>{width}}"
            if key in column
            else f"{'-':>{width}}"
            for column in columns
        ]
        lines.append(f"{key[0][:13]:<14}{key[1]:<7}{total:>6}" + "".join(cells))
    return "\n".join(lines)


def _rates(scored: list[Scored]) -> dict[tuple[str, str], tuple[int, float, float, float]]:
    """Per (category, label): rows, then the approved, held and rejected shares."""
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for item in scored:
        counts[(item.row.category, item.row.label)][item.status] += 1
    return {
        key: (
            sum(statuses.values()),
            *(statuses[status] / sum(statuses.values()) for status in (APPROVED, HELD, REJECTED)),
        )
        for key, statuses in counts.items()
    }

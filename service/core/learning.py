"""Persist each site's learned spam model: feature counts from moderators' decisions."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from service.extensions import db
from service.models import SpamFeature
from workers.scoring.learned import Counts, comment_features

# Rows holding the model's totals, beside the per-feature rows.
DOCUMENTS, OCCURRENCES, VOCABULARY = "#documents", "#occurrences", "#vocabulary"
TOTALS = (DOCUMENTS, OCCURRENCES, VOCABULARY)


def site_counts(site_id: int, feature_list: Iterable[str]) -> Counts:
    """Load the site's counts for just these features (and the totals), in one query."""
    wanted = [*TOTALS, *feature_list]
    rows = {
        feature: (spam, ham)
        for feature, spam, ham in db.session.execute(
            select(SpamFeature.feature, SpamFeature.spam, SpamFeature.ham).where(
                SpamFeature.site_id == site_id, SpamFeature.feature.in_(wanted)
            )
        )
    }
    spam_documents, ham_documents = rows.pop(DOCUMENTS, (0, 0))
    spam_total, ham_total = rows.pop(OCCURRENCES, (0, 0))
    vocabulary, _ = rows.pop(VOCABULARY, (0, 0))
    return Counts(spam_documents, ham_documents, spam_total, ham_total, vocabulary, rows)


def learn(site_id: int, text: str, is_spam: bool, *, weight: int = 1, commit: bool = True) -> None:
    """Teach the site's model one moderator decision (weight -1 takes one back, e.g. undo)."""
    feature_list = comment_features(text)
    existing = set(
        db.session.scalars(
            select(SpamFeature.feature).where(
                SpamFeature.site_id == site_id, SpamFeature.feature.in_(feature_list)
            )
        )
    )
    new_features = sum(1 for feature in feature_list if feature not in existing)
    rows = [(feature, weight) for feature in feature_list]
    rows += [(DOCUMENTS, weight), (OCCURRENCES, weight * len(feature_list))]
    values = [
        {
            "site_id": site_id,
            "feature": feature,
            "spam": n if is_spam else 0,
            "ham": 0 if is_spam else n,
        }
        for feature, n in rows
    ]
    if new_features and weight > 0:
        values.append({"site_id": site_id, "feature": VOCABULARY, "spam": new_features, "ham": 0})
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(SpamFeature).values(values)
    # One upsert that adds to the counters, so concurrent decisions never lose a count.
    statement = statement.on_conflict_do_update(
        index_elements=[SpamFeature.site_id, SpamFeature.feature],
        set_={
            "spam": SpamFeature.spam + statement.excluded.spam,
            "ham": SpamFeature.ham + statement.excluded.ham,
        },
    )
    db.session.execute(statement)
    if commit:
        db.session.commit()

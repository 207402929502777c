"""A reply chain of any depth: the thread still answers, at most MAX_REPLY_DEPTH deep, showing
every visible comment once (issue 14, finding 1: ~200 replies deep used to answer 500)."""

from service.core import readcache
from service.core.threads import MAX_REPLY_DEPTH
from service.extensions import db
from service.models import Comment, CommentStatus

from .helpers import comments_url, make_comment, post_comment, status_of

CHAIN = 400


def _walk(nodes: list[dict], depth: int = 0):
    """Yield (depth, node) for every node of a thread, iteratively (the test must not recurse
    into the very depth it checks)."""
    stack = [(depth, node) for node in reversed(nodes)]
    while stack:
        level, node = stack.pop()
        yield level, node
        stack.extend((level + 1, reply) for reply in reversed(node["replies"]))


def _delete(comment: Comment) -> None:
    """Mark a comment deleted by its author, as the delete endpoint stores it."""
    db.session.execute(
        db.update(Comment).where(Comment.id == comment.id).values(status=CommentStatus.DELETED)
    )
    readcache.touch_comments(db.session, [comment.id])
    db.session.commit()


def _chain(site, length: int) -> list[Comment]:
    """Store `length` approved comments, each a reply to the one before."""
    chain = [make_comment(site, "approved")]
    for _ in range(length - 1):
        chain.append(make_comment(site, "approved", parent=chain[-1]))
    return chain


def test_a_deep_reply_chain_is_shown_whole_and_at_most_max_depth_deep(client, site):
    chain = _chain(site, CHAIN)

    response = client.get(comments_url() + "?limit=1")

    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    nodes = list(_walk(response.json["comments"]))
    assert [node["id"] for _, node in nodes] == [comment.id for comment in chain]
    depths = [level for level, _ in nodes]
    assert max(depths) == MAX_REPLY_DEPTH
    assert depths[: MAX_REPLY_DEPTH + 1] == list(range(MAX_REPLY_DEPTH + 1))
    assert set(depths[MAX_REPLY_DEPTH:]) == {MAX_REPLY_DEPTH}
    # Each reply keeps the comment it answered, wherever it is shown.
    assert [node["parent_id"] for _, node in nodes] == [None] + [c.id for c in chain[:-1]]
    # The flat part reads in time order under the ancestor one level up.
    anchor = nodes[MAX_REPLY_DEPTH - 1][1]
    assert [reply["id"] for reply in anchor["replies"]] == [c.id for c in chain[MAX_REPLY_DEPTH:]]


def test_a_deleted_comment_deep_in_a_chain_stays_a_tombstone_while_replies_follow(client, site):
    chain = _chain(site, MAX_REPLY_DEPTH + 5)
    gone, last = chain[MAX_REPLY_DEPTH + 2], chain[-1]
    _delete(gone)

    nodes = {node["id"]: node for _, node in _walk(client.get(comments_url()).json["comments"])}

    assert nodes[gone.id]["deleted"] is True and nodes[gone.id]["body_html"] is None
    assert nodes[last.id]["body_html"] is not None
    # The deletion of the last one removes it; nothing else changes.
    _delete(last)
    nodes = {node["id"]: node for _, node in _walk(client.get(comments_url()).json["comments"])}
    assert last.id not in nodes and gone.id in nodes


def test_a_reply_to_the_deepest_comment_is_accepted_and_shown(client, site, run_worker):
    deepest = _chain(site, MAX_REPLY_DEPTH + 3)[-1].id

    response = post_comment(client, parent_id=deepest)
    assert response.status_code == 202, response.json
    run_worker()

    assert status_of(response.json["id"]) == "approved"
    nodes = list(_walk(client.get(comments_url()).json["comments"]))
    assert nodes[-1][1]["id"] == response.json["id"]
    assert nodes[-1][1]["parent_id"] == deepest
    assert nodes[-1][0] == MAX_REPLY_DEPTH

"""Importers (Disqus XML, WordPress WXR, our own JSON Lines) and the full export of a site.

The Disqus and WordPress files are built here from their published formats: nested replies
(a reply before its parent too), deleted and spam comments, pingbacks, odd encodings, hostile
HTML, and malformed files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from service.core import imports
from service.core.hashing import hash_email, hash_ip
from service.core.importfiles import ImportFileError
from service.core.imports import import_file
from service.extensions import db
from service.models import Article, AuditEntry, Comment, OperatorAction, Site

from .helpers import make_comment, temporary_database

DISQUS_HEAD = (
    '<disqus xmlns="http://disqus.com" '
    'xmlns:dsq="http://disqus.com/disqus-internals" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    '<category dsq:id="1"><forum>demo</forum><title>General</title>'
    "<isDefault>true</isDefault></category>\n"
)


def disqus_thread(dsq_id: str, identifier: str, link: str, title: str, closed=False) -> str:
    return (
        f'<thread dsq:id="{dsq_id}"><id>{identifier}</id><forum>demo</forum>'
        f'<category dsq:id="1"/><link>{link}</link><title>{title}</title>'
        f"<message/><createdAt>2012-12-31T10:00:00Z</createdAt>"
        f"<author><name>Editor</name><isAnonymous>false</isAnonymous></author>"
        f"<isClosed>{'true' if closed else 'false'}</isClosed><isDeleted>false</isDeleted>"
        f"</thread>\n"
    )


def disqus_post(
    dsq_id: str,
    thread: str,
    message: str,
    *,
    parent: str | None = None,
    name: str = "Dana",
    email: str = "dana@example.com",
    ip: str = "203.0.113.7",
    deleted=False,
    spam=False,
    created="2013-01-02T08:30:00Z",
) -> str:
    return (
        f'<post dsq:id="{dsq_id}"><id/><message><![CDATA[{message}]]></message>'
        f"<createdAt>{created}</createdAt>"
        f"<isDeleted>{str(deleted).lower()}</isDeleted><isSpam>{str(spam).lower()}</isSpam>"
        f"<author><email>{email}</email><name>{name}</name>"
        f"<isAnonymous>false</isAnonymous><username>{name.lower()}</username></author>"
        f"<ipAddress>{ip}</ipAddress>"
        f'<thread dsq:id="{thread}"/>'
        + (f'<parent dsq:id="{parent}"/>' if parent else "")
        + "</post>\n"
    )


def disqus_file(tmp_path: Path, body: str, *, encoding: str = "utf-8", bom=False) -> Path:
    text = f'<?xml version="1.0" encoding="{encoding}"?>\n' + DISQUS_HEAD + body + "</disqus>\n"
    path = tmp_path / "disqus.xml"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


def sample_disqus(tmp_path: Path) -> Path:
    """Two threads; on the first a thread of three levels whose deepest reply comes first."""
    return disqus_file(
        tmp_path,
        disqus_thread("100", "story-1", "https://demo.example/story-1", "Harbour bridge")
        + disqus_thread("200", "", "https://demo.example/story-2", "Night buses", closed=True)
        # 13 replies to 12, which comes later in the file.
        + disqus_post("13", "100", "<p>Agreed with you both.</p>", parent="12", name="Noa")
        + disqus_post("11", "100", "<p>The bridge <b>reopens</b> Monday.</p>")
        + disqus_post(
            "12", "100", "Really?<script>alert(1)</script>", parent="11", name="Avi", ip="::1"
        )
        + disqus_post("14", "100", "Buy cheap pills", spam=True, name="Spammer")
        + disqus_post("15", "100", "<p>I take it back.</p>", deleted=True, name="Yael")
        + disqus_post("21", "200", "<p>Buses at night, finally.</p>", email="NOA@Example.com"),
    )


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def by_import_id(source: str = "disqus") -> dict[str, Comment]:
    db.session.expire_all()
    rows = db.session.scalars(select(Comment).where(Comment.import_source == source))
    return {comment.import_id: comment for comment in rows}


def test_disqus_import_keeps_threads_states_dates_and_hashes(cli, site, tmp_path):
    result = cli("import", "disqus", str(sample_disqus(tmp_path)), "--site", "demo")
    assert result.exit_code == 0, result.output
    assert "Imported 6 comment(s) into site demo: 4 approved, 1 deleted, 1 rejected." in (
        result.output
    )
    comments = by_import_id()
    assert set(comments) == {"11", "12", "13", "14", "15", "21"}
    top, reply, deep = comments["11"], comments["12"], comments["13"]
    # The reply stored before its parent is linked once the parent is in, with the right root.
    assert (top.parent_id, top.root_id) == (None, None)
    assert (reply.parent_id, reply.root_id) == (top.id, top.id)
    assert (deep.parent_id, deep.root_id) == (reply.id, top.id)
    assert (
        top.status.value == "approved"
        and top.body_html == "<p>The bridge <b>reopens</b> Monday.</p>"
    )
    assert str(top.created_at) == "2013-01-02 08:30:00"
    # Sanitized: the script and its text are gone.
    assert "script" not in reply.body_html and "alert" not in reply.body_text
    assert comments["14"].status.value == "rejected"
    deleted = comments["15"]
    assert (
        deleted.status.value == "deleted" and deleted.body_html == "" and deleted.author_name == ""
    )
    # Addresses only as our keyed hashes, normalised like ours.
    assert top.email_hash == hash_email("dana@example.com")
    assert comments["21"].email_hash == hash_email("noa@example.com")
    assert top.ip_hash == hash_ip("203.0.113.7") and reply.ip_hash == hash_ip("::1")
    # Articles: the identifier, else the link; the closed thread is closed here too.
    articles = {a.external_id: a for a in db.session.scalars(select(Article))}
    assert set(articles) == {"story-1", "https://demo.example/story-2"}
    assert articles["story-1"].title == "Harbour bridge"
    assert articles["https://demo.example/story-2"].is_closed
    # Each keeps its decision, with an audit row by the importer; the operators' log has counts.
    trail = db.session.scalars(select(AuditEntry).where(AuditEntry.comment_id == top.id)).all()
    assert [(e.actor, e.from_status, e.to_status) for e in trail] == [
        ("import:disqus", None, "approved")
    ]
    action = db.session.scalar(select(OperatorAction).where(OperatorAction.action == "site.import"))
    assert action.details["comments"] == {"approved": 4, "deleted": 1, "rejected": 1}
    assert "dana" not in json.dumps(action.details).lower()


def test_threads_across_batches(site, tmp_path, monkeypatch):
    # Batches of two: parents found in the database, not only within the batch.
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    summary = import_file("demo", "disqus", sample_disqus(tmp_path))
    assert sum(summary.comments.values()) == 6 and summary.orphans == 0
    comments = by_import_id()
    top, reply, deep = comments["11"], comments["12"], comments["13"]
    assert (reply.parent_id, reply.root_id) == (top.id, top.id)
    assert (deep.parent_id, deep.root_id) == (reply.id, top.id)
    assert count(AuditEntry) == 6


def test_a_reply_whose_parent_is_not_in_the_file_stays_top_level(site, tmp_path):
    path = disqus_file(
        tmp_path,
        disqus_thread("100", "story-1", "https://demo.example/1", "One")
        + disqus_post("1", "100", "Replying to a comment deleted before the export", parent="9"),
    )
    summary = import_file("demo", "disqus", path)
    assert summary.orphans == 1
    orphan = by_import_id()["1"]
    assert (orphan.parent_id, orphan.root_id, orphan.status.value) == (None, None, "approved")


def test_readers_see_the_imported_thread(cli, client, site, tmp_path):
    # Read once so the page is cached; the import must bump it.
    assert client.get("/api/v1/sites/demo/articles/story-1/comments").get_json()["count"] == 0
    assert cli("import", "disqus", str(sample_disqus(tmp_path)), "--site", "demo").exit_code == 0
    page = client.get("/api/v1/sites/demo/articles/story-1/comments").get_json()
    assert page["count"] == 3  # the approved thread (spam and deleted are not counted)
    [top] = page["comments"]
    assert top["author_name"] == "Dana"
    [reply] = top["replies"]
    assert reply["author_name"] == "Avi" and reply["replies"][0]["author_name"] == "Noa"


def test_second_run_adds_nothing(cli, site, tmp_path):
    path = str(sample_disqus(tmp_path))
    assert cli("import", "disqus", path, "--site", "demo").exit_code == 0
    before = (count(Comment), count(AuditEntry), count(Article))
    again = cli("import", "disqus", path, "--site", "demo")
    assert again.exit_code == 0, again.output
    assert "Already imported (left alone): 6." in again.output
    assert (count(Comment), count(AuditEntry), count(Article)) == before


def test_dry_run_writes_nothing(cli, site, tmp_path):
    result = cli("import", "disqus", str(sample_disqus(tmp_path)), "--site", "demo", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would import 6 comment(s)" in result.output and "Dry run" in result.output
    assert count(Comment) == 0 and count(Article) == 0


def test_malformed_file_names_the_line_and_imports_nothing(cli, site, tmp_path):
    good = disqus_thread("100", "story-1", "https://demo.example/1", "One") + "".join(
        disqus_post(str(n), "100", f"<p>Comment {n}</p>") for n in range(1, 40)
    )
    # Line 3 of the head + the thread line + 39 posts, then a broken post on line 44.
    path = disqus_file(tmp_path, good + '<post dsq:id="99"><message>oops</post>\n')
    result = cli("import", "disqus", str(path), "--site", "demo")
    assert result.exit_code == 1
    assert "line 44, column" in result.output and "mismatched tag" in result.output
    assert count(Comment) == 0 and count(Article) == 0


def test_a_record_that_makes_no_sense_names_its_line(site, tmp_path):
    path = disqus_file(
        tmp_path,
        disqus_thread("100", "story-1", "https://demo.example/1", "One")
        + disqus_post("1", "100", "fine")
        + disqus_post("2", "999", "on a thread the file does not hold"),
    )
    with pytest.raises(ImportFileError, match=r"line 6: comment on article '999'"):
        import_file("demo", "disqus", path)
    bad_date = disqus_file(
        tmp_path,
        disqus_thread("100", "s", "https://demo.example/1", "One")
        + disqus_post("1", "100", "fine", created="yesterday"),
    )
    with pytest.raises(ImportFileError, match=r"line 5: post 1's createdAt is not a date"):
        import_file("demo", "disqus", bad_date)
    assert count(Comment) == 0


def test_entities_and_dtds_are_refused(site, tmp_path):
    path = tmp_path / "xxe.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE disqus [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        + DISQUS_HEAD
        + "</disqus>\n"
    )
    with pytest.raises(ImportFileError, match="DTD or entities"):
        import_file("demo", "disqus", path)


@pytest.mark.parametrize(
    ("encoding", "bom", "name", "message"),
    [
        ("ISO-8859-1", False, "Zoë Brontë", "Très bien, ça marche."),
        ("windows-1255", False, "דנה כהן", "תגובה בעברית, עם ניקוד: שָׁלוֹם"),
        ("UTF-8", True, "Ōsaka 大阪", "Emoji-free UTF-8 with a byte order mark: naïve café"),
    ],
)
def test_odd_encodings(site, tmp_path, encoding, bom, name, message):
    path = disqus_file(
        tmp_path,
        disqus_thread("100", "story-1", "https://demo.example/1", "One")
        + disqus_post("1", "100", message, name=name),
        encoding=encoding,
        bom=bom,
    )
    import_file("demo", "disqus", path)
    comment = by_import_id()["1"]
    assert comment.author_name == name
    assert comment.body_text == message


WXR_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"
  xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<title>Demo Daily</title><link>https://demo.example</link>
<wp:wxr_version>1.2</wp:wxr_version>
"""


def wp_comment(
    comment_id: int,
    content: str,
    *,
    parent: int = 0,
    approved: str = "1",
    kind: str = "comment",
    author: str = "Dana",
) -> str:
    return f"""<wp:comment>
  <wp:comment_id>{comment_id}</wp:comment_id>
  <wp:comment_author><![CDATA[{author}]]></wp:comment_author>
  <wp:comment_author_email><![CDATA[{author.lower()}@example.com]]></wp:comment_author_email>
  <wp:comment_author_url>https://example.com</wp:comment_author_url>
  <wp:comment_author_IP><![CDATA[198.51.100.{comment_id}]]></wp:comment_author_IP>
  <wp:comment_date><![CDATA[2014-05-0{comment_id % 9 + 1} 12:00:00]]></wp:comment_date>
  <wp:comment_date_gmt><![CDATA[2014-05-0{comment_id % 9 + 1} 10:00:00]]></wp:comment_date_gmt>
  <wp:comment_content><![CDATA[{content}]]></wp:comment_content>
  <wp:comment_approved><![CDATA[{approved}]]></wp:comment_approved>
  <wp:comment_type><![CDATA[{kind}]]></wp:comment_type>
  <wp:comment_parent>{parent}</wp:comment_parent>
  <wp:comment_user_id>0</wp:comment_user_id>
</wp:comment>
"""


def wp_item(post_id: int, slug: str, comments: str, status: str = "open") -> str:
    return f"""<item>
<title>Post {post_id}</title>
<link>https://demo.example/{slug}/</link>
<pubDate>Mon, 05 May 2014 09:00:00 +0000</pubDate>
<dc:creator><![CDATA[editor]]></dc:creator>
<content:encoded><![CDATA[<p>The story.</p>]]></content:encoded>
<wp:post_id>{post_id}</wp:post_id>
<wp:post_name><![CDATA[{slug}]]></wp:post_name>
<wp:status><![CDATA[publish]]></wp:status>
<wp:comment_status><![CDATA[{status}]]></wp:comment_status>
<wp:post_type><![CDATA[post]]></wp:post_type>
{comments}</item>
"""


def sample_wxr(tmp_path: Path) -> Path:
    body = (
        wp_item(
            7,
            "bridge",
            # 3 replies to 2, which comes after it.
            wp_comment(3, "Line one\n\nLine two", parent=2, author="Noa")
            + wp_comment(1, "First!<img src=x onerror=alert(1)>")
            + wp_comment(2, "A <a href='javascript:alert(1)'>reply</a>", parent=1, author="Avi")
            + wp_comment(4, "Held for a moderator", approved="0", author="Eli")
            + wp_comment(5, "Casino", approved="spam", author="Bot")
            + wp_comment(6, "Binned", approved="trash", author="Gil")
            + wp_comment(8, "[...] linked here [...]", kind="pingback", author="Other blog"),
        )
        + wp_item(9, "attachment", "")
        + wp_item(10, "closed", wp_comment(11, "Old one"), status="closed")
    )
    path = tmp_path / "wordpress.xml"
    path.write_text(WXR_HEAD + body + "</channel>\n</rss>\n", encoding="utf-8")
    return path


def test_wordpress_import(cli, site, tmp_path):
    result = cli("import", "wordpress", str(sample_wxr(tmp_path)), "--site", "demo")
    assert result.exit_code == 0, result.output
    assert "Skipped or changed: 1 (pingback)." in result.output
    comments = by_import_id("wordpress")
    assert set(comments) == {"1", "2", "3", "4", "6", "5", "11"}
    assert {k: c.status.value for k, c in comments.items()} == {
        "1": "approved",
        "2": "approved",
        "3": "approved",
        "4": "held",
        "5": "rejected",
        "6": "deleted",
        "11": "approved",
    }
    first, reply, deep = comments["1"], comments["2"], comments["3"]
    assert (reply.parent_id, reply.root_id) == (first.id, first.id)
    assert (deep.parent_id, deep.root_id) == (reply.id, first.id)
    assert "onerror" not in first.body_html and "javascript" not in reply.body_html
    assert deep.body_html == "<p>Line one</p><p>Line two</p>"
    assert str(first.created_at) == "2014-05-02 10:00:00"  # the GMT date
    assert first.ip_hash == hash_ip("198.51.100.1")
    articles = {a.external_id: a for a in db.session.scalars(select(Article))}
    # Posts without comments make no article; the id is wp:post_id.
    assert set(articles) == {"7", "10"}
    assert articles["7"].url == "https://demo.example/bridge/" and articles["10"].is_closed


def test_a_truncated_wordpress_file_names_the_line_and_imports_nothing(cli, site, tmp_path):
    whole = sample_wxr(tmp_path).read_text()
    cut = whole[: whole.index("<wp:comment_id>11</wp:comment_id>") + 20]
    path = tmp_path / "truncated.xml"
    path.write_text(cut)
    lines = cut.count("\n") + 1
    result = cli("import", "wordpress", str(path), "--site", "demo")
    assert result.exit_code == 1
    assert f"line {lines}, column" in result.output and "not well-formed XML" in result.output
    assert count(Comment) == 0 and count(Article) == 0


def test_wordpress_in_a_hebrew_single_byte_encoding(site, tmp_path):
    body = wp_item(7, "bridge", wp_comment(1, "שלום, תגובה ראשונה", author="דנה"))
    path = tmp_path / "wordpress-1255.xml"
    head = WXR_HEAD.replace('encoding="UTF-8"', 'encoding="windows-1255"')
    path.write_bytes((head + body + "</channel>\n</rss>\n").encode("windows-1255"))
    import_file("demo", "wordpress", path)
    comment = by_import_id("wordpress")["1"]
    assert (comment.author_name, comment.body_text) == ("דנה", "שלום, תגובה ראשונה")


def test_wordpress_article_ids_by_url(cli, site, tmp_path):
    path = str(sample_wxr(tmp_path))
    result = cli("import", "wordpress", path, "--site", "demo", "--article-id", "url")
    assert result.exit_code == 0, result.output
    assert set(db.session.scalars(select(Article.external_id))) == {
        "https://demo.example/bridge/",
        "https://demo.example/closed/",
    }


def test_unknown_site_is_refused(cli, site, tmp_path):
    result = cli("import", "disqus", str(sample_disqus(tmp_path)), "--site", "nope")
    assert result.exit_code == 1 and "No site with key 'nope'" in result.output


def test_rescore_sends_imported_comments_through_moderation(cli, site, tmp_path, run_worker):
    path = str(sample_disqus(tmp_path))
    result = cli("import", "disqus", path, "--site", "demo", "--rescore")
    assert result.exit_code == 0, result.output
    assert "Queued for moderation: 4." in result.output
    comments = by_import_id()
    assert {k: c.status.value for k, c in comments.items()} == {
        "11": "pending",
        "12": "pending",
        "13": "pending",
        "21": "pending",
        "14": "rejected",
        "15": "deleted",
    }
    run_worker()
    comments = by_import_id()
    decided = {k: c.status.value for k, c in comments.items() if k in {"11", "12", "13", "21"}}
    assert set(decided.values()) <= {"approved", "held", "rejected"} and "pending" not in decided
    trail = db.session.scalars(
        select(AuditEntry).where(AuditEntry.comment_id == comments["11"].id).order_by(AuditEntry.id)
    ).all()
    assert (trail[0].actor, trail[0].to_status) == ("import:disqus", "pending")
    assert trail[1].actor == "worker" and trail[1].from_status == "pending"


def _thread_shape(session) -> list[tuple]:
    """Every comment as (article, own key, parent key, root key, status, author, body), keyed by
    created_at and text so two databases with different ids compare."""
    rows = session.execute(
        select(Comment, Article.external_id).join(Article, Article.id == Comment.article_id)
    ).all()
    key_of = {c.id: (str(c.created_at), c.body_text, c.author_name) for c, _ in rows}
    return sorted(
        (
            article,
            key_of[c.id],
            key_of.get(c.parent_id),
            key_of.get(c.root_id),
            c.status.value,
            c.body_html,
            c.likes,
            c.email_hash,
            c.featured_at is not None,
        )
        for c, article in rows
    )


def test_export_and_import_into_an_empty_database(cli, site, tmp_path, app_factory):
    assert cli("import", "disqus", str(sample_disqus(tmp_path)), "--site", "demo").exit_code == 0
    # Comments posted here too, with votes and an editors' pick.
    demo = db.session.get(Site, site.id)
    first = make_comment(demo, "approved", article="story-1", key="k1")
    reply = make_comment(demo, "approved", article="story-1", parent=first)
    make_comment(demo, "held", article="other", parent=None)
    make_comment(demo, "rejected", article="other", parent=None)
    db.session.get(Comment, first.id).likes = 3
    db.session.get(Comment, reply.id).featured_at = first.created_at
    db.session.commit()
    expected = _thread_shape(db.session)
    expected_counts = (count(Article), count(Comment))

    output = tmp_path / "export.jsonl"
    result = cli("export", "--site", "demo", "-o", str(output))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert lines[0]["format"] == "talkback-export" and lines[0]["site"] == "demo"
    kinds = [line.get("type") for line in lines[1:]]
    assert kinds.count("article") == expected_counts[0]
    assert kinds.count("comment") == expected_counts[1]
    text = output.read_text()
    assert "dana@example.com" not in text and "203.0.113.7" not in text
    assert db.session.scalar(
        select(OperatorAction).where(OperatorAction.action == "site.export")
    ).details["comments"] == {"approved": 6, "deleted": 1, "held": 1, "rejected": 2}

    with temporary_database(tmp_path) as url:
        fresh = app_factory(SQLALCHEMY_DATABASE_URI=url)
        with fresh.app_context():
            upgrade()
            db.session.add(Site(key="demo", name="Demo Daily"))
            db.session.commit()
            runner = fresh.test_cli_runner()
            result = runner.invoke(args=["import", "talkback", str(output), "--site", "demo"])
            assert result.exit_code == 0, result.output
            db.session.remove()
            assert (count(Article), count(Comment)) == expected_counts
            assert _thread_shape(db.session) == expected
            # Importing it again adds nothing.
            again = runner.invoke(args=["import", "talkback", str(output), "--site", "demo"])
            assert again.exit_code == 0 and "Already imported (left alone): 10." in again.output
            db.session.remove()
            assert count(Comment) == expected_counts[1]
            db.session.remove()
            db.engine.dispose()


def test_talkback_reader_names_bad_lines(site, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"format": "talkback-export", "version": 1, "site": "demo"}\n'
        '{"type": "article", "id": "a1"}\n'
        '{"type": "comment", "id": 1, "article": "a1", "status": "approved",\n'
    )
    with pytest.raises(ImportFileError, match=r"line 3, column \d+: not JSON"):
        import_file("demo", "talkback", path)
    path.write_text('{"type": "article", "id": "a1"}\n')
    with pytest.raises(ImportFileError, match="line 1: the first line is not a header"):
        import_file("demo", "talkback", path)
    assert count(Comment) == 0


def test_console_export_is_a_streamed_download_for_operators_only(
    cli, client, site, tmp_path, make_user, login
):
    assert cli("import", "disqus", str(sample_disqus(tmp_path)), "--site", "demo").exit_code == 0
    make_user("olga", role="operator")
    make_user("mia", sites=["demo"])
    login(client, "mia")
    assert client.get("/console/sites/demo/export").status_code == 403
    client.post("/console/logout", data={})
    operator = client.application.test_client()
    login(operator, "olga")
    page = operator.get("/console/sites/demo").get_data(as_text=True)
    assert 'href="/console/sites/demo/export"' in page and "Export (JSON Lines)" in page
    response = operator.get("/console/sites/demo/export")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/x-ndjson"
    assert 'filename="talkback-demo-' in response.headers["Content-Disposition"]
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert lines[0]["format"] == "talkback-export"
    assert sum(line.get("type") == "comment" for line in lines) == 6
    db.session.remove()
    action = db.session.scalar(select(OperatorAction).where(OperatorAction.action == "site.export"))
    assert action.actor.endswith(":olga") and action.details["articles"] == 2
    assert operator.get("/console/sites/nope/export").status_code == 404


def isso_database(tmp_path: Path) -> Path:
    """An Isso database with Isso's own schema (isso/db/threads.py, comments.py)."""
    import sqlite3

    path = tmp_path / "comments.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            """
            CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE,
                title VARCHAR(256));
            CREATE TABLE comments (
                tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
                created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
                text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
                likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
                notification INTEGER NOT NULL DEFAULT 0);
            INSERT INTO threads VALUES (1, '/2014/harbour-bridge/', 'Harbour bridge');
            INSERT INTO threads VALUES (2, '/2014/no-comments/', 'Quiet');
            """
        )
        rows = [
            (
                1,
                1,
                None,
                1400000000.5,
                1,
                "198.51.100.0",
                "**Bold** claim\n\nSecond <script>x</script>",
                "Dana",
                "dana@example.com",
                2,
            ),
            (
                1,
                2,
                1,
                1400000100.0,
                1,
                "198.51.100.0",
                "Agreed, see https://example.com",
                "Avi",
                None,
                0,
            ),
            (1, 3, 1, 1400000200.0, 2, "203.0.113.0", "Waiting", None, None, 0),
            (1, 4, None, 1400000300.0, 4, "203.0.113.0", "", None, None, 0),
        ]
        connection.executemany(
            "INSERT INTO comments (tid, id, parent, created, mode, remote_addr, text, author,"
            " email, likes, voters) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, x'00')",
            rows,
        )
    return path


def test_isso_import(cli, site, tmp_path):
    path = str(isso_database(tmp_path))
    result = cli("import", "isso", path, "--site", "demo")
    assert result.exit_code == 0, result.output
    comments = by_import_id("isso")
    assert {k: c.status.value for k, c in comments.items()} == {
        "1": "approved",
        "2": "approved",
        "3": "held",
        "4": "deleted",
    }
    first = comments["1"]
    # Markdown rendered (raw HTML in it stays text), then through our sanitizer.
    assert first.body_html == (
        "<p><strong>Bold</strong> claim</p>\n<p>Second &lt;script&gt;x&lt;/script&gt;</p>\n"
    )
    assert first.likes == 2 and str(first.created_at) == "2014-05-13 16:53:20.500000"
    assert comments["2"].parent_id == first.id and comments["2"].root_id == first.id
    assert 'href="https://example.com"' in comments["2"].body_html
    assert comments["3"].author_name == "Anonymous"
    assert first.ip_hash == hash_ip("198.51.100.0") and first.email_hash == hash_email(
        "dana@example.com"
    )
    assert set(db.session.scalars(select(Article.external_id))) == {"/2014/harbour-bridge/"}
    assert (
        "Already imported (left alone): 4." in cli("import", "isso", path, "--site", "demo").output
    )


def test_isso_refuses_a_file_that_is_not_its_database(site, tmp_path):
    path = tmp_path / "not.db"
    path.write_text("hello")
    with pytest.raises(ImportFileError, match="not an Isso database"):
        import_file("demo", "isso", path)

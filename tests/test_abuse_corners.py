"""Abuse corners the probe found (issue 14, finding 7): invisible text, bidi overrides in names
and titles, the same ban added twice. (Reports: tests/test_reports.py; rate limits while Redis is
down: tests/test_rate_limits.py.)"""

from __future__ import annotations

import pytest

from service.core.sanitize import has_visible_text, plain_text
from service.extensions import db
from service.models import Ban, Comment, OperatorAction

from .helpers import BANS_ADMIN, bearer, post_comment, row_count, submit

ZWSP, WORD_JOINER, BOM, RLO, LRI, PDI = "\u200b", "\u2060", "\ufeff", "\u202e", "\u2066", "\u2069"


@pytest.mark.parametrize(
    "body",
    [
        ZWSP * 40,
        f"{ZWSP}{WORD_JOINER}{BOM}" * 10,
        f"<p>{ZWSP}</p><p>{RLO}</p>",
        "\u3164" * 12,  # Hangul filler: a "letter" that draws nothing
        "\u2800" * 12,  # braille blank
        "\u0301\u0301\u0301",  # combining marks with nothing to sit on
    ],
    ids=["zwsp", "joiners", "markup-and-override", "hangul-filler", "braille-blank", "marks"],
)
def test_a_body_with_nothing_visible_is_a_422_and_stores_nothing(client, site, body):
    response = post_comment(client, body=body)

    assert response.status_code == 422, response.json
    assert set(response.json["error"]["fields"]) == {"body"}
    assert row_count(Comment) == 0


@pytest.mark.parametrize("name", [ZWSP * 5, f"{RLO}{PDI}", "\u3164", f" {BOM} "])
def test_a_name_with_nothing_visible_is_a_422(client, site, name):
    response = post_comment(client, author_name=name)

    assert response.status_code == 422, response.json
    assert set(response.json["error"]["fields"]) == {"author_name"}


def test_bidi_overrides_and_zero_width_spaces_are_removed_from_names_and_titles(client, site):
    posted = submit(
        client,
        author_name=f"Moderator{ZWSP} {RLO}nimda",
        title=f"{LRI}Breaking{PDI}: {RLO}gnikaerb",
    )

    stored = db.session.get(Comment, posted["id"])
    assert stored.author_name == "Moderator nimda"
    assert stored.title == "Breaking: gnikaerb"


@pytest.mark.parametrize(
    "name",
    [
        "\u05d3\u05e0\u05d4 \u200f(\u05d9\u05e8\u05d5\u05e9\u05dc\u05d9\u05dd)",  # Hebrew + RLM
        "\U0001f468\u200d\U0001f469\u200d\U0001f467 family",  # ZWJ emoji sequence
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian with ZWNJ
        "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f fan",  # flag tags
    ],
    ids=["hebrew-rlm", "zwj-emoji", "persian-zwnj", "england-flag"],
)
def test_names_keep_the_joiners_and_marks_scripts_and_emoji_need(name):
    assert plain_text(name) == name
    assert has_visible_text(name)


def test_a_visible_body_may_still_hold_zero_width_characters(client, site):
    posted = submit(client, body=f"Hello{ZWSP} there, neighbours")
    assert db.session.get(Comment, posted["id"]).body_text == f"Hello{ZWSP} there, neighbours"


# --- The same ban twice ----------------------------------------------------------------------


@pytest.fixture
def token(make_user, api_token) -> str:
    return api_token(make_user("olga", "operator"))


def _ban(client, token, **body):
    body = {"target": "email", "value": "troll@example.com", "site": "demo", "reason": "x", **body}
    return client.post(BANS_ADMIN, json=body, headers=bearer(token))


def test_adding_an_identical_ban_again_returns_the_one_in_force(client, site, token):
    first = _ban(client, token)
    assert first.status_code == 201, first.json

    again = [_ban(client, token, reason="double click") for _ in range(3)]

    assert {response.status_code for response in again} == {200}
    assert {response.json["id"] for response in again} == {first.json["id"]}
    assert row_count(Ban) == 1
    assert row_count(OperatorAction) == 1  # one ban.add in the operators' log


@pytest.mark.parametrize(
    "change",
    [{"kind": "shadow"}, {"value": "other@example.com"}, {"until": "2099-01-01T00:00:00Z"}],
    ids=["kind", "target", "end"],
)
def test_a_ban_that_differs_is_a_new_one(client, site, token, change):
    assert _ban(client, token).status_code == 201
    assert _ban(client, token, **change).status_code == 201
    assert row_count(Ban) == 2


def test_after_a_lift_the_same_ban_can_be_added_again(client, site, token):
    first = _ban(client, token).json
    lifted = client.post(f"{BANS_ADMIN}/{first['id']}/lift", headers=bearer(token))
    assert lifted.status_code == 200, lifted.json

    again = _ban(client, token)

    assert again.status_code == 201 and again.json["id"] != first["id"]


def test_the_cli_says_an_identical_ban_is_in_force(cli, site):
    args = ("bans", "add", "--site", "demo", "--email", "troll@example.com", "--reason", "x")
    assert cli(*args).exit_code == 0
    result = cli(*args)

    assert result.exit_code == 0, result.output
    assert "already in force" in result.output
    assert row_count(Ban) == 1

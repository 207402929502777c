"""The demo pages: a news article (English, Hebrew) and a list page embedding the widget
cross-origin, under a strict Content-Security-Policy."""

import re

import pytest

from service.widget.demo import STORIES, api_origin, content_security_policy

PAGES = ["/demo", "/demo/he", "/demo/list"]


@pytest.fixture
def demo_client(app_factory, app, site):
    """A client of an app that answers to any host name, as `make run` does."""
    return app_factory(SERVER_NAME=None).test_client()


def get(demo_client, path: str, host: str = "localhost:8000"):
    response = demo_client.get(path, base_url=f"http://{host}")
    assert response.status_code == 200, response.data
    return response


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_article_page_embeds_the_widget_as_a_newsroom_would(demo_client):
    response = get(demo_client, "/demo")
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    story = STORIES["en"]
    assert '<html lang="en" dir="ltr">' in html
    assert f"<h1>{story.headline}</h1>" in html
    assert story.byline in html
    assert html.count("<p>") >= len(story.paragraphs)
    assert '<div id="talkback" class="comments"></div>' in html
    # The widget comes from the other name of the server: a different origin than the page.
    assert (
        f'<script src="http://127.0.0.1:8000/embed.js" data-site="demo" '
        f'data-article="{story.article}" async></script>'
    ) in html
    assert "<noscript>" in html
    assert "<form" not in html  # the server-rendered form is gone: the widget writes


@pytest.mark.parametrize(
    ("page_host", "api"),
    [
        ("localhost:8000", "http://127.0.0.1:8000"),
        ("127.0.0.1:5000", "http://localhost:5000"),
        ("news.example", "http://news.example"),  # any other name: same origin
    ],
)
def test_the_api_origin_is_the_other_name_of_the_server(demo_client, page_host, api):
    with demo_client.application.test_request_context(base_url=f"http://{page_host}"):
        assert api_origin() == api
    html = get(demo_client, "/demo", host=page_host).get_data(as_text=True)
    assert f'src="{api}/embed.js"' in html


def test_hebrew_page_is_right_to_left_with_its_own_article(demo_client):
    html = get(demo_client, "/demo/he").get_data(as_text=True)
    story = STORIES["he"]
    assert '<html lang="he" dir="rtl">' in html
    assert f"<h1>{story.headline}</h1>" in html
    assert f'data-article="{story.article}"' in html
    assert story.article != STORIES["en"].article


def test_list_page_loads_the_count_script_for_its_stories(demo_client):
    html = get(demo_client, "/demo/list").get_data(as_text=True)
    assert '<script src="http://127.0.0.1:8000/count.js" data-site="demo" async></script>' in html
    counted = re.findall(r'data-talkback-count="([^"]+)"', html)
    assert STORIES["en"].article in counted
    assert STORIES["he"].article in counted
    assert len(counted) >= 5


@pytest.mark.parametrize("path", PAGES)
def test_demo_pages_run_under_a_strict_content_security_policy(demo_client, path):
    response = get(demo_client, path)
    policy = response.headers["Content-Security-Policy"]
    assert policy == content_security_policy("http://127.0.0.1:8000")
    found = directives(policy)
    assert found["default-src"] == ["'none'"]
    for directive in ("script-src", "style-src", "connect-src"):
        assert found[directive] == ["'self'", "http://127.0.0.1:8000"]
    assert found["frame-ancestors"] == ["'none'"]
    assert found["base-uri"] == ["'none'"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.get_data(as_text=True).lower()
    # Every script is external, and nothing inline that the policy would block.
    assert len(re.findall(r"<script\b", html)) == len(re.findall(r"<script src=", html)) == 1
    assert " style=" not in html
    assert "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)


def test_the_stylesheet_it_links_is_served(demo_client):
    html = get(demo_client, "/demo").get_data(as_text=True)
    [href] = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    with demo_client.get(href) as response:  # a file response: close it
        assert response.status_code == 200
        assert response.mimetype == "text/css"


def test_the_old_form_post_is_gone(demo_client):
    assert demo_client.post("/demo", data={"author_name": "x", "body": "y"}).status_code == 405


@pytest.mark.parametrize("path", PAGES)
def test_demo_pages_without_the_demo_site_are_not_found(app_factory, app, path):
    response = app_factory(SERVER_NAME=None).test_client().get(path)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", PAGES)
def test_demo_pages_are_not_served_unless_turned_on(app_factory, app, site, path):
    # Production deployments leave TALKBACK_DEMO_PAGES unset; `make run` turns them on.
    response = app_factory(SERVER_NAME=None, DEMO_PAGES=False).test_client().get(path)
    assert response.status_code == 404
    assert "demo" not in app_factory(DEMO_PAGES=False).blueprints

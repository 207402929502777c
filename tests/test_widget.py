"""The widget's files as served: types, caching, cross-origin headers, size, and CSP-safe code."""

import gzip
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from service.widget.assets import WIDGET_DIR

FILES = {
    "/embed.js": "text/javascript",
    "/embed.css": "text/css",
    "/count.js": "text/javascript",
}
BUDGET = 25 * 1024  # bytes, gzipped, for everything a page loads


@pytest.mark.parametrize(("path", "mimetype"), FILES.items())
def test_widget_files_are_served_for_any_page_with_cache_headers(client, path, mimetype):
    response = client.get(path, headers={"Origin": "https://news.example"})
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.mimetype_params == {"charset": "utf-8"}
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    etag = response.headers["ETag"]
    assert etag
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_embed_js_carries_the_strings_in_one_private_scope(client):
    script = client.get("/embed.js").get_data(as_text=True)
    assert script.startswith('(() => {\n"use strict";\n')
    assert script.rstrip().endswith("})();")
    assert "const STRINGS = {" in script
    assert "This will delete your current comment." in script
    assert "פעולה זו תמחק את התגובה הנוכחית שלכם." in script


def test_everything_a_page_loads_fits_the_budget_gzipped(client):
    sizes = {path: len(gzip.compress(client.get(path).data, compresslevel=9)) for path in FILES}
    assert sum(sizes.values()) <= BUDGET, sizes


def _sources() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in WIDGET_DIR.glob("*.js")}


def test_code_never_styles_inline_evaluates_strings_or_writes_html_except_body_html():
    for name, text in _sources().items():
        source = "\n".join(re.sub(r"^\s*//.*", "", line) for line in text.splitlines())
        assert not re.search(r"\.style\b", source), name
        assert not re.search(r"setAttribute\(\s*[\"']style", source), name
        assert "eval(" not in source and "new Function" not in source, name
        assert "document.write" not in source, name
        assert "insertAdjacentHTML" not in source and "outerHTML" not in source, name
        for line in source.splitlines():
            if "innerHTML" in line:
                assert re.search(r"\.innerHTML = (comment|data)\.body_html;", line), (name, line)


def test_string_tables_have_the_same_keys():
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    strings = (WIDGET_DIR / "strings.js").read_text(encoding="utf-8")
    program = (
        strings
        + "\nconst keys = (t) => Object.keys(t).sort() + '|' + Object.keys(t.reasons);"
        + "\nfor (const lang in STRINGS) console.log(lang + ' ' + keys(STRINGS[lang]));"
    )
    result = subprocess.run(
        [node, "-e", program], capture_output=True, text=True, check=True, timeout=30
    )
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert set(lines) == {"en", "he"}
    assert lines["en"] == lines["he"]


def test_the_widget_files_are_plain_javascript_that_parses():
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    served = (
        '(() => {\n"use strict";\n'
        + (WIDGET_DIR / "strings.js").read_text(encoding="utf-8")
        + (WIDGET_DIR / "embed.js").read_text(encoding="utf-8")
        + "})();\n"
    )
    for source in (served, (WIDGET_DIR / "count.js").read_text(encoding="utf-8")):
        subprocess.run(
            [node, "--check", "-"], input=source, capture_output=True, text=True, check=True
        )


def test_the_widget_is_packaged():
    # pyproject's package-data must ship the widget files with the service.
    import tomllib

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["service"]
    assert any(
        pattern.startswith("static/widget") or pattern == "static/**/*" for pattern in patterns
    )

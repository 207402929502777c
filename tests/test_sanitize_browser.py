"""Sanitizer output in real headless Chromium: nothing may run, load or survive as markup."""

import pytest

from service.core.sanitize import sanitize_body

from .helpers import ATTACKS, corpus_payloads

pytestmark = pytest.mark.browser

# Pages are served from a made-up origin through request routing; every other request is
# recorded and aborted, so a payload that tries to load anything is caught and nothing leaves.
ORIGIN = "http://talkback.test"
BATCH_SIZE = 200
# Long enough for the error events of aborted loads and for autofocus/ontoggle-style handlers.
SETTLE_MS = 200

# Runs before any script of every document: dialogs are replaced and recorded, not shown.
INIT_SCRIPT = """
window.__xss = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = function (...args) {
    window.__xss.push(name + "(" + args.map(String).join(", ") + ")");
  };
}
"""

# Structural checks on the parsed DOM, per payload container.
AUDIT_SCRIPT = """
() => {
  const allowed = new Set(["B", "I", "EM", "STRONG", "P", "BR", "BLOCKQUOTE", "A"]);
  const problems = [];
  const banned = "script,iframe,object,embed,svg,math,img,style,form,base,meta,link";
  for (const el of document.querySelectorAll(banned)) {
    problems.push([el.closest("div.c")?.dataset.i ?? "-", "banned element " + el.tagName]);
  }
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      if (attr.name.toLowerCase().startsWith("on")) {
        problems.push([el.closest("div.c")?.dataset.i ?? "-", "handler " + attr.name]);
      }
    }
  }
  const boxes = document.querySelectorAll("body > div.c");
  for (const box of boxes) {
    for (const el of box.querySelectorAll("*")) {
      if (!allowed.has(el.tagName)) problems.push([box.dataset.i, "tag " + el.tagName]);
      for (const attr of el.attributes) {
        if (!(el.tagName === "A" && (attr.name === "href" || attr.name === "rel"))) {
          problems.push([box.dataset.i, "attribute " + attr.name + " on " + el.tagName]);
        }
      }
      if (el.tagName === "A" && el.hasAttribute("href")
          && !["http:", "https:", "mailto:"].includes(el.protocol)) {
        problems.push([box.dataset.i, "link protocol " + el.protocol]);
      }
    }
  }
  return {problems, xss: window.__xss, boxes: boxes.length};
}
"""


def page_for(bodies: list[str]) -> str:
    """Return an HTML document with each sanitized body in its own numbered div."""
    boxes = "".join(f'<div class="c" data-i="{i}">{body}</div>\n' for i, body in enumerate(bodies))
    return f"<!doctype html><html><head></head><body>\n{boxes}</body></html>"


@pytest.fixture(scope="module")
def browser_page(chromium):
    """Yield (page, events): a Chromium page with routing and dialog recording set up."""
    events = {"dialogs": [], "requests": [], "pages": {}}

    def route(route):
        url = route.request.url
        if url in events["pages"]:
            route.fulfill(
                status=200, content_type="text/html; charset=utf-8", body=events["pages"][url]
            )
        else:
            events["requests"].append(url)
            route.abort()

    def on_dialog(dialog):
        events["dialogs"].append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    context = chromium.new_context(java_script_enabled=True)
    try:
        context.add_init_script(INIT_SCRIPT)
        context.route("**/*", route)
        page = context.new_page()
        page.on("dialog", on_dialog)
        yield page, events
    finally:
        context.close()


def load(page, events, name: str, document: str) -> dict:
    """Serve document at a fresh URL, let it settle, and return the DOM audit."""
    url = f"{ORIGIN}/{name}"
    events["pages"][url] = document
    page.goto(url, wait_until="load")
    page.wait_for_timeout(SETTLE_MS)
    return page.evaluate(AUDIT_SCRIPT)


def test_harness_catches_unsanitized_markup(browser_page):
    # Without this the main test could pass because the harness sees nothing at all.
    page, events = browser_page
    raw = ["<img src=x onerror=alert(1)>", '<b onclick="x()">b</b>', "<svg></svg>"]
    result = load(page, events, "canary", page_for(raw))
    assert result["xss"] == ["alert(1)"]
    assert len(result["problems"]) >= 3
    assert f"{ORIGIN}/x" in events["requests"]
    events["requests"].clear()


def test_sanitized_payloads_are_inert_in_chromium(browser_page):
    page, events = browser_page
    payloads = list(dict.fromkeys([*ATTACKS, *(raw for _, raw in corpus_payloads())]))
    assert len(payloads) >= len(ATTACKS)
    failures = []
    for start in range(0, len(payloads), BATCH_SIZE):
        batch = payloads[start : start + BATCH_SIZE]
        bodies = [sanitize_body(raw).html for raw in batch]
        result = load(page, events, f"batch/{start}", page_for(bodies))
        if result["boxes"] != len(batch):
            failures.append(f"batch {start}: {result['boxes']} of {len(batch)} containers parsed")
        if result["xss"]:
            failures.append(f"batch {start}: dialogs called {result['xss'][:5]}")
        for index, problem in result["problems"]:
            where = batch[int(index)] if index != "-" else "?"
            failures.append(f"batch {start}: {problem} from {where[:120]!r}")
    failures += [f"dialog shown: {d}" for d in events["dialogs"]]
    failures += [f"request made: {url}" for url in events["requests"]]
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:20])

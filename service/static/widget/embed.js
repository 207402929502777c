// @ts-check
// Talkback reader widget, the start: find the script tag and its host element, then launch.
//
// Embedding:
//   <div id="talkback"></div>
//   <script src="https://COMMENTS-HOST/embed.js" data-site="ynet" data-article="4993431" async></script>
// Optional attributes: data-lang ("en" | "he"; default: the page's <html lang>), data-target (id
// of the element to render into; default "talkback"), data-limit (top-level comments per page),
// data-article-url and data-article-title (default: the canonical link and the page title),
// data-live (seconds between polls for new comments at first, default 15; 0 turns it off).
//
// Rules every widget file keeps, so it runs on any page under a strict Content-Security-Policy:
// - everything renders inside an open Shadow DOM, styled only by <link rel=stylesheet> to the
//   comment host's /embed.css: no style attributes, no element.style, no inline anything;
// - user text goes in with textContent; the API's sanitized body_html is the only innerHTML;
// - the API is another origin: every call is a CORS fetch without credentials.
//
// service/widget.py serves /embed.js as strings.js, the widget's parts and then this file,
// all inside one function wrapper (see WIDGET_MODULES there), so nothing leaks to the page.

function pickLanguage(value) {
  const lang = (value || "").toLowerCase().split("-")[0];
  return Object.prototype.hasOwnProperty.call(STRINGS, lang) ? lang : "en";
}

function start() {
  if (!SCRIPT) return;
  const data = SCRIPT.dataset;
  const host = document.getElementById(data.target || "talkback");
  if (!host || !data.site || !data.article) {
    console.warn("Talkback: needs <div id=\"talkback\"> and data-site and data-article on the script tag.");
    return;
  }
  if (host.shadowRoot) return; // embedded twice: the first one wins
  const limit = Math.min(100, Math.max(1, Number.parseInt(data.limit, 10) || 20));
  // Seconds between live polls at first (0: no live "new comments").
  const live = 1000 * Math.max(0, Number.parseFloat(data.live ?? "15") || 0);
  let started;
  const widget = new Promise((resolve) => (started = resolve));
  const launch = (lang) =>
    started(new Talkback(host, { site: data.site, article: data.article, limit, live, lang: pickLanguage(lang) }));
  // The page's only handle on the widget: sign a reader in with a token its login signed, or out
  // (resolving once the widget has started: it may first wait for the site's language).
  // @ts-ignore
  window.Talkback = Object.freeze({
    login: (token) => widget.then((talkback) => talkback.login(String(token))),
    logout: () => widget.then((talkback) => talkback.logout()),
  });
  const pageLanguage = data.lang || document.documentElement.lang;
  if (pageLanguage) return launch(pageLanguage);
  // The page doesn't say its language: use the site's default, read from a one-comment page.
  const path = `/api/v1/sites/${encodeURIComponent(data.site)}/articles/${encodeURIComponent(data.article)}/comments?limit=1`;
  api(path)
    .then(({ data: page }) => launch(page?.site?.language))
    .catch(() => launch());
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();

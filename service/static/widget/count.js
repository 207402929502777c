// @ts-check
// Talkback comment counts for list pages.
//
//   <a href="/story/4993431">Story <span data-talkback-count="4993431"></span></a>
//   <script src="https://COMMENTS-HOST/count.js" data-site="ynet" async></script>
//
// Fills every element with data-talkback-count="ARTICLE" with that article's number of published
// comments (as text only), with one request per 100 articles. Plain script, no inline anything.
(() => {
  "use strict";
  // Only set while an async script first runs: capture it now.
  const script = /** @type {HTMLScriptElement | null} */ (document.currentScript);
  if (!script) return;
  const API = new URL(script.src, location.href).origin;
  const site = script.dataset.site;
  const CHUNK = 100; // the API's limit per request

  async function fill() {
    const elements = /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-talkback-count]"));
    const byArticle = new Map();
    for (const element of elements) {
      const article = element.dataset.talkbackCount.trim();
      // Commas separate ids in the query, so such an id cannot be asked for.
      if (!article || article.includes(",")) continue;
      if (!byArticle.has(article)) byArticle.set(article, []);
      byArticle.get(article).push(element);
    }
    const articles = [...byArticle.keys()];
    const format = new Intl.NumberFormat(document.documentElement.lang || undefined);
    for (let start = 0; start < articles.length; start += CHUNK) {
      const chunk = articles.slice(start, start + CHUNK);
      const query = new URLSearchParams({ articles: chunk.join(",") });
      try {
        const response = await fetch(`${API}/api/v1/sites/${encodeURIComponent(site)}/counts?${query}`, {
          mode: "cors",
          credentials: "omit",
        });
        if (!response.ok) continue;
        const { counts } = await response.json();
        for (const article of chunk) {
          if (typeof counts[article] !== "number") continue;
          for (const element of byArticle.get(article)) {
            element.textContent = format.format(counts[article]);
            element.dataset.talkbackCounted = "";
          }
        }
      } catch {
        // Counts are decoration: leave the placeholders as they are.
      }
    }
  }

  if (!site) return;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fill);
  else fill();
})();

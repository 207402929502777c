// @ts-check
// Sanitized comment bodies, with the words that flagged them wrapped in <mark>.

import { h } from "./dom.js";

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Wrap every occurrence of the words in container's text nodes in <mark> (case-insensitive). */
export function highlight(container, words) {
  const terms = [...new Set((words || []).filter((word) => word && word.trim()))];
  if (!terms.length) return;
  terms.sort((a, b) => b.length - a.length); // the longest match wins where terms overlap
  const pattern = new RegExp(terms.map(escapeRegExp).join("|"), "giu");
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const text = node.nodeValue;
    const parts = [];
    let last = 0;
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
      parts.push(text.slice(last, match.index), h("mark", { class: "reason-word", text: match[0] }));
      last = match.index + match[0].length;
    }
    if (!parts.length) continue;
    parts.push(text.slice(last));
    node.replaceWith(...parts.filter((part) => part !== ""));
  }
}

/** An element holding the sanitizer's HTML: the only place API text becomes markup. */
export function sanitizedBody(html, className, words) {
  const node = h("div", { class: className });
  node.innerHTML = html || "";
  highlight(node, words);
  return node;
}

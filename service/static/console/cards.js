// @ts-check
// The cards: render a comment for moderation, keep the list and the focused card.

import { h, timeElement, score, plural } from "./dom.js";
import { highlight, sanitizedBody } from "./highlight.js";

/** @typedef {import("./console.js").ModerationConsole} ModerationConsole */

/** @this {ModerationConsole} */
export function card(id) {
  return this.cards.find((card) => card.data.id === id);
}

/** @this {ModerationConsole} */
export function insertCard(data, index) {
  const card = { data, node: this.renderCard(data) };
  const after = this.cards[index];
  this.list.insertBefore(card.node, after ? after.node : null);
  this.cards.splice(index, 0, card);
  return card;
}

/** @this {ModerationConsole} */
export function renderCard(c) {
  const labelId = `card-${c.id}-label`;
  const words = c.highlights || [];
  const article = c.article || {};
  const articleTitle = article.title || article.id || "Untitled article";
  const node = h("li", { class: "card", tabindex: "-1", "data-id": c.id, "aria-labelledby": labelId });

  const checkbox = h("input", {
    type: "checkbox",
    class: "card-select",
    "data-select": c.id,
    "aria-label": `Select the comment by ${c.author_name}`,
  });
  const heading = h(
    "h2",
    { class: "card-heading", id: labelId },
    h("span", { class: "card-author", dir: "auto", text: c.author_name }),
    ...(c.badges || []).map((badge) => h("span", { class: "card-badge", dir: "auto", text: badge })),
    " on ",
    article.url
      ? h("a", { href: article.url, class: "card-article", rel: "noopener noreferrer", target: "_blank", text: articleTitle })
      : h("span", { class: "card-article", text: articleTitle }),
  );
  const meta = h(
    "ul",
    { class: "card-meta" },
    h("li", { class: "card-site", text: c.site }),
    c.sso_id ? h("li", { class: "card-sso", title: "Signed in with the site's login", text: `SSO id ${c.sso_id}` }) : null,
    h("li", {}, timeElement(c.created_at)),
    h("li", { class: `status status-${c.status}`, text: c.status }),
    score("Toxicity", c.toxicity),
    score("Spam", c.spam),
    c.likes || c.dislikes ? h("li", { class: "card-votes", text: `${c.likes} likes, ${c.dislikes} dislikes` }) : null,
    c.shadow
      ? h("li", { class: "status status-shadow", title: "Sent under a shadow ban: only its author sees it.", text: "Shadow-banned" })
      : null,
    c.banned ? h("li", { class: "status status-banned", "data-banned": "", text: "Banned" }) : null,
    h("li", { class: "status status-featured", "data-featured-marker": "", hidden: !c.featured, text: "Editors' pick" }),
    c.edited_at ? h("li", {}, h("a", { href: `/console/comments/${c.id}/history`, text: "Edited: history" })) : null,
  );
  const premoderate = h("button", {
    type: "button",
    class: "button button-quiet button-premoderate",
    "data-premoderate": c.id,
    "aria-pressed": article.premoderated ? "true" : "false",
    title: "Every new comment on this article waits for a moderator",
    text: "Pre-moderate article",
  });
  node.append(h("header", { class: "card-header" }, checkbox, heading, premoderate), meta);

  if (c.parent) {
    node.append(
      h(
        "div",
        { class: "card-parent" },
        h("p", { class: "card-parent-label", text: `In reply to ${c.parent.author_name}:` }),
        sanitizedBody(c.parent.body_html, "card-parent-body", []),
      ),
    );
  }
  if (c.title) {
    const title = h("h3", { class: "card-comment-title", text: c.title });
    highlight(title, words);
    node.append(title);
  }
  node.append(sanitizedBody(c.body_html, "card-body", words));

  if (c.reasons?.length) {
    const reasons = h("ul", { class: "card-reasons", "aria-label": "Reasons" });
    for (const reason of c.reasons) {
      const item = h("li", { text: reason });
      highlight(item, words);
      reasons.append(item);
    }
    node.append(reasons);
  }

  const reports = c.reports;
  if (reports?.count) {
    const counts = Object.entries(reports.reasons || {})
      .map(([reason, count]) => `${reason.replace(/_/g, "-")} ${count}`)
      .join(", ");
    const box = h("div", { class: "card-reports" }, h("p", { text: `Reported ${plural(reports.count, "time")}: ${counts}` }));
    if (reports.notes?.length) {
      box.append(h("ul", { class: "card-report-notes", "aria-label": "Readers' notes" }, ...reports.notes.map((note) => h("li", { text: note }))));
    }
    node.append(box);
  }

  const history = c.commenter || {};
  const historyBox = h(
    "div",
    { class: "card-history" },
    h("p", { text: `Commenter history: ${history.approved ?? 0} approved, ${history.rejected ?? 0} rejected` }),
  );
  if (history.recent?.length) {
    historyBox.append(
      h(
        "ul",
        { class: "card-recent", "aria-label": "Recent comments by this commenter" },
        ...history.recent.map((item) =>
          h(
            "li",
            {},
            h("span", { class: `status status-${item.status}`, text: item.status }),
            " ",
            h("span", { text: item.title ? `${item.title}: ${item.excerpt}` : item.excerpt }),
          ),
        ),
      ),
    );
  }
  node.append(historyBox);

  const actions = h("div", { class: "card-actions" });
  if (this.labels.approve) {
    actions.append(h("button", { type: "button", class: "button button-approve", "data-decide": "approve", text: this.labels.approve }));
  }
  if (this.labels.reject) {
    actions.append(h("button", { type: "button", class: "button button-danger", "data-decide": "reject", text: this.labels.reject }));
    actions.append(h("button", { type: "button", class: "button button-quiet", "data-decide": "spam", text: "Spam" }));
  }
  if (c.status === "approved" && !c.shadow) {
    // A toggle: pressed while the comment is an editors' pick.
    actions.append(
      h("button", {
        type: "button",
        class: "button button-quiet button-feature",
        "data-feature": c.id,
        "aria-pressed": c.featured ? "true" : "false",
        title: "Show this comment above its thread as an editors' pick",
        text: "Feature",
      }),
    );
  }
  actions.append(h("button", { type: "button", class: "button button-quiet button-ban", "data-ban": c.id, "aria-haspopup": "dialog", text: "Ban" }));
  node.append(actions);
  return node;
}

/** @this {ModerationConsole} */
export function setCurrent(id, { focus = true } = {}) {
  const card = this.card(id);
  if (!card) return;
  if (this.currentId !== id) this.card(this.currentId)?.node.classList.remove("is-current");
  this.currentId = id;
  card.node.classList.add("is-current");
  if (focus) {
    card.node.focus();
    card.node.scrollIntoView({ block: "nearest" });
  }
}

/** @this {ModerationConsole} */
export function move(step) {
  if (!this.cards.length) return;
  const index = this.cards.findIndex((card) => card.data.id === this.currentId);
  const next = index < 0 ? 0 : Math.min(this.cards.length - 1, Math.max(0, index + step));
  this.setCurrent(this.cards[next].data.id);
}

/**
 * Remove cards; if the focused one goes, focus the card that took its place.
 * @this {ModerationConsole}
 */
export function removeCards(cards) {
  const gone = new Set(cards.map((card) => card.data.id));
  const active = document.activeElement;
  const hadFocus = !active || active === document.body || this.list.contains(active);
  const oldIndex = this.cards.findIndex((card) => card.data.id === this.currentId);
  // The first remaining card after the focused one takes its place (or the new last card).
  const kept = this.cards.slice(0, Math.max(oldIndex, 0)).filter((card) => !gone.has(card.data.id)).length;
  for (const card of cards) {
    card.node.remove();
    card.node.classList.remove("is-current", "is-selected");
    this.selected.delete(card.data.id);
  }
  this.cards = this.cards.filter((card) => !gone.has(card.data.id));
  this.updateSelection();
  this.updateEmpty();
  if (!gone.has(this.currentId)) return;
  this.currentId = null;
  const next = this.cards[Math.min(kept, this.cards.length - 1)];
  if (next) this.setCurrent(next.data.id, { focus: hadFocus });
  else if (hadFocus) this.empty.focus();
}

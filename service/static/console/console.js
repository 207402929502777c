// Talkback moderators' console: work a queue from the keyboard through the moderation API.
//
// The page (templates/console/queue.html) is a shell with data attributes; this file loads the
// cards, decides them without reloading the page, offers undo for a few seconds, and polls
// GET /api/v1/moderation/events every 3 s so new comments appear and colleagues' decisions vanish.
//
// Rules this file keeps, so it runs under the console's CSP (script-src 'self', no inline):
// - every value from the API goes in with textContent, except the sanitizer's body_html;
// - highlights wrap text nodes of that sanitized HTML in <mark>, never string-replace markup;
// - calls are same-origin fetches with the session cookie and the CSRF token header.
//
// Each card's Ban button opens one shared <dialog> that posts to POST /api/v1/admin/bans with
// the comment's id: the server bans by what the comment carries, so no email or address ever
// reaches this page. The card's ban_targets says which targets the comment has.
//
// Each card's article line has a "Pre-moderate article" toggle (aria-pressed): it PUTs
// /api/v1/moderation/sites/{site}/articles/{article}/premoderation, and every card of that
// article on the page follows the new state.

const POLL_MS = 3000;
const REFRESH_EVERY_POLLS = 10; // reports make no audit events: refresh the list now and then
const PAGE_SIZE = 25;
const UNDO_FALLBACK_MS = 10000;

const ACTION_LABELS = {
  held: { approve: "Approve", reject: "Reject" },
  pending: { approve: "Approve", reject: "Reject" },
  reported: { approve: "Keep", reject: "Remove" },
  approved: { approve: null, reject: "Remove" },
  rejected: { approve: "Approve", reject: null },
};
const DONE_WORDS = { approve: "Approved", reject: "Rejected" };
const TARGET_WORDS = {
  commenter_key: "the commenter",
  email: "their email address",
  ip: "their IP address",
  network: "their network",
  email_domain: "their email domain",
};

// ---------------------------------------------------------------- small helpers

/** Create an element: attrs are attributes, except text (textContent), hidden and on{Event}. */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "hidden") node.hidden = true;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Wrap every occurrence of the words in container's text nodes in <mark> (case-insensitive). */
function highlight(container, words) {
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
function sanitizedBody(html, className, words) {
  const node = h("div", { class: className });
  node.innerHTML = html || "";
  highlight(node, words);
  return node;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function timeElement(iso) {
  if (!iso) return null;
  const date = new Date(iso);
  return h("time", { datetime: iso, text: Number.isNaN(date.valueOf()) ? iso : dateFormat.format(date) });
}

function score(label, value) {
  if (value === null || value === undefined) return h("li", { class: "score", text: `${label} —` });
  const level = value >= 0.8 ? "score-high" : value >= 0.5 ? "score-medium" : "score-low";
  return h("li", { class: `score ${level}`, text: `${label} ${value.toFixed(2)}` });
}

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function actorName(actor) {
  return (actor || "").replace(/^moderator:/, "");
}

// ---------------------------------------------------------------- the console

class ModerationConsole {
  constructor(root) {
    this.root = root;
    this.queue = root.dataset.queue;
    this.site = root.dataset.site || "";
    this.sort = root.dataset.sort || "oldest";
    this.user = root.dataset.user;
    this.actor = `moderator:${this.user}`;
    this.api = root.dataset.api;
    this.adminApi = root.dataset.adminApi || "/api/v1/admin";
    this.consoleRoot = root.dataset.console || "/console";
    this.csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
    this.labels = ACTION_LABELS[this.queue];
    const find = (selector) => root.querySelector(selector);
    this.list = find("[data-cards]");
    this.empty = find("[data-empty]");
    this.loading = find("[data-loading]");
    this.alert = find("[data-alert]");
    this.announcer = find("[data-announce]");
    this.toolbar = find("[data-toolbar]");
    this.selectedCount = find("[data-selected-count]");
    this.moreButton = find('[data-action="more"]');
    this.toast = find("[data-toast]");
    this.toastText = find("[data-toast-text]");
    this.toastSeconds = find("[data-toast-seconds]");
    this.help = find("[data-help]");
    this.banDialog = find("[data-ban-dialog]");
    this.banForm = find("[data-ban-form]");
    this.banCard = null; // the card whose author the dialog bans
    this.banReturn = null;

    this.cards = []; // [{data, node}] in display order
    this.currentId = null; // the focused card's comment id
    this.selected = new Set();
    this.anchorId = null; // the last checkbox clicked, for shift-click ranges
    this.busy = false; // one decision at a time: a second key press must not decide twice
    this.undo = null; // {action, items: [{card, index}], deadline, timer}
    this.lastEvent = null;
    this.polls = 0;
    this.nextCursor = null;

    document.addEventListener("keydown", (event) => this.onKey(event));
    root.addEventListener("click", (event) => this.onClick(event));
    this.list.addEventListener("focusin", (event) => {
      const node = event.target.closest("li.card");
      if (node) this.setCurrent(Number(node.dataset.id), { focus: false });
    });
    this.helpReturn = null;
    // Only when nothing else took the focus meanwhile: a late "close" must not pull it back
    // to the card the help opened from after j/k moved on.
    this.help.addEventListener("close", () => {
      const active = document.activeElement;
      if (!active || active === document.body) this.helpReturn?.focus();
    });
    this.banForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submitBan();
    });
    this.banDialog.addEventListener("close", () => {
      this.banCard = null;
      // The browser puts focus back on the Ban button; if that button is gone (its card left the
      // queue), on the card that took its place. The close event comes a moment later, so focus
      // the user has moved since (j, k) is left alone.
      const active = document.activeElement;
      if (active && active !== document.body) return;
      if (this.banReturn?.isConnected) this.banReturn.focus();
      else if (this.currentId !== null) this.setCurrent(this.currentId);
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.poll();
    });
    this.start();
  }

  // ------------------------------------------------------------ API

  /** Call the moderation API; resolve {status, data, date}; a lost session goes to the login. */
  request(path, options) {
    return this.call(this.api + path, options);
  }

  /** Call a same-origin JSON endpoint with the session cookie (and the CSRF token to change). */
  async call(url, { method = "GET", body } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRFToken"] = this.csrf;
    const response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      const next = location.pathname + location.search;
      location.assign(`${this.root.dataset.login || "/console/login"}?next=${encodeURIComponent(next)}`);
    }
    const data = await response.json().catch(() => null);
    return { status: response.status, data, date: response.headers.get("Date") };
  }

  queuePath(cursor) {
    const query = new URLSearchParams({ sort: this.sort, limit: String(PAGE_SIZE) });
    if (this.site) query.set("site", this.site);
    if (cursor) query.set("cursor", cursor);
    return `/queues/${encodeURIComponent(this.queue)}?${query}`;
  }

  static message(result, fallback) {
    return result.data?.error?.message || fallback;
  }

  // ------------------------------------------------------------ loading and live updates

  async start() {
    const [page, events] = await Promise.all([
      this.request(this.queuePath()).catch(() => null),
      this.request(`/events${this.site ? `?site=${encodeURIComponent(this.site)}` : ""}`).catch(() => null),
    ]);
    this.loading.hidden = true;
    if (!page || page.status !== 200) {
      this.showAlert(page ? ModerationConsole.message(page, "The queue could not be loaded.") : "The server cannot be reached.");
      return;
    }
    // Without a starting point the first poll asks for one: replaying old events could drop
    // cards whose comments came back to this queue since.
    this.lastEvent = events?.status === 200 ? events.data.last : null;
    for (const data of page.data.comments) this.insertCard(data, this.cards.length);
    this.updateCounts(page.data.counts);
    this.setMore(page.data.next_cursor);
    this.updateEmpty();
    if (this.cards.length) this.setCurrent(this.cards[0].data.id);
    this.root.dataset.ready = "true";
    this.schedulePoll();
  }

  schedulePoll() {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => this.poll(), POLL_MS);
  }

  async poll() {
    clearTimeout(this.pollTimer);
    if (document.hidden) return this.schedulePoll();
    try {
      const query = new URLSearchParams();
      if (this.lastEvent !== null) query.set("after", String(this.lastEvent));
      if (this.site) query.set("site", this.site);
      const result = await this.request(`/events?${query}`);
      if (result.status === 200) {
        this.lastEvent = result.data.last ?? this.lastEvent;
        const events = result.data.events || [];
        for (const event of events) this.applyEvent(event);
        this.polls += 1;
        if (events.length || this.polls % REFRESH_EVERY_POLLS === 0) await this.refresh();
      }
    } catch {
      /* offline for a moment: the next poll catches up from lastEvent */
    }
    this.schedulePoll();
  }

  /** Drop a card someone else (a colleague, the worker, the author) moved out of this queue. */
  applyEvent(event) {
    if (event.actor === this.actor) return; // our own decisions are already on screen
    const card = this.card(event.comment_id);
    if (!card) return;
    if (this.queue !== "reported" && event.to_status === card.data.status) return;
    const who = event.actor?.startsWith("moderator:") ? actorName(event.actor) : event.actor;
    this.removeCards([card]);
    this.announce(`${card.data.author_name}'s comment was ${event.to_status} by ${who}.`);
  }

  /** Fetch the first page again: fresh counts, and new comments placed where the order puts them. */
  async refresh() {
    const result = await this.request(this.queuePath());
    if (result.status !== 200) return;
    this.updateCounts(result.data.counts);
    const fresh = result.data.comments;
    const decided = new Set((this.undo?.items || []).map((item) => item.card.data.id));
    let added = 0;
    fresh.forEach((data, position) => {
      if (this.card(data.id) || decided.has(data.id)) return;
      // After the nearest earlier comment of the fresh page that is already shown, else first.
      let index = 0;
      for (let before = position - 1; before >= 0; before -= 1) {
        const shown = this.cards.findIndex((card) => card.data.id === fresh[before].id);
        if (shown >= 0) {
          index = shown + 1;
          break;
        }
      }
      this.insertCard(data, index);
      added += 1;
    });
    if (added) {
      this.announce(`${plural(added, "new comment")} in the queue.`);
      this.updateEmpty();
      if (this.currentId === null) this.setCurrent(this.cards[0].data.id, { focus: false });
    }
  }

  async loadMore() {
    if (!this.nextCursor) return;
    const result = await this.request(this.queuePath(this.nextCursor));
    if (result.status !== 200) {
      this.showAlert(ModerationConsole.message(result, "More comments could not be loaded."));
      return;
    }
    for (const data of result.data.comments) {
      if (!this.card(data.id)) this.insertCard(data, this.cards.length);
    }
    this.setMore(result.data.next_cursor);
    this.updateEmpty();
  }

  setMore(cursor) {
    this.nextCursor = cursor;
    this.moreButton.hidden = !cursor;
  }

  updateCounts(counts) {
    this.counts = { ...(counts || {}) };
    for (const node of document.querySelectorAll("[data-count-for]")) {
      const count = this.counts[node.dataset.countFor];
      node.textContent = count === undefined ? "" : String(count);
    }
  }

  adjustCounts(action, count) {
    if (!this.counts) return;
    const target = action === "approve" ? "approved" : "rejected";
    if (this.queue !== "reported" && this.queue !== target) {
      this.counts[this.queue] = Math.max(0, (this.counts[this.queue] || 0) - count);
      this.counts[target] = (this.counts[target] || 0) + count;
    } else if (this.queue === "reported") {
      this.counts.reported = Math.max(0, (this.counts.reported || 0) - count);
    }
    this.updateCounts(this.counts);
  }

  updateEmpty() {
    this.empty.hidden = this.cards.length > 0;
  }

  // ------------------------------------------------------------ cards

  card(id) {
    return this.cards.find((card) => card.data.id === id);
  }

  insertCard(data, index) {
    const card = { data, node: this.renderCard(data) };
    const after = this.cards[index];
    this.list.insertBefore(card.node, after ? after.node : null);
    this.cards.splice(index, 0, card);
    return card;
  }

  renderCard(c) {
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
      h("span", { class: "card-author", text: c.author_name }),
      " on ",
      article.url
        ? h("a", { href: article.url, class: "card-article", rel: "noopener noreferrer", target: "_blank", text: articleTitle })
        : h("span", { class: "card-article", text: articleTitle }),
    );
    const meta = h(
      "ul",
      { class: "card-meta" },
      h("li", { class: "card-site", text: c.site }),
      h("li", {}, timeElement(c.created_at)),
      h("li", { class: `status status-${c.status}`, text: c.status }),
      score("Toxicity", c.toxicity),
      score("Spam", c.spam),
      c.shadow
        ? h("li", { class: "status status-shadow", title: "Sent under a shadow ban: only its author sees it.", text: "Shadow-banned" })
        : null,
      c.banned ? h("li", { class: "status status-banned", "data-banned": "", text: "Banned" }) : null,
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
    actions.append(h("button", { type: "button", class: "button button-quiet button-ban", "data-ban": c.id, "aria-haspopup": "dialog", text: "Ban" }));
    node.append(actions);
    return node;
  }

  setCurrent(id, { focus = true } = {}) {
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

  move(step) {
    if (!this.cards.length) return;
    const index = this.cards.findIndex((card) => card.data.id === this.currentId);
    const next = index < 0 ? 0 : Math.min(this.cards.length - 1, Math.max(0, index + step));
    this.setCurrent(this.cards[next].data.id);
  }

  /** Remove cards; if the focused one goes, focus the card that took its place. */
  removeCards(cards) {
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

  // ------------------------------------------------------------ selection

  toggle(id, on) {
    const card = this.card(id);
    if (!card) return;
    const selected = on ?? !this.selected.has(id);
    if (selected) this.selected.add(id);
    else this.selected.delete(id);
    card.node.classList.toggle("is-selected", selected);
    card.node.querySelector("[data-select]").checked = selected;
  }

  selectRange(fromId, toId, on) {
    const ids = this.cards.map((card) => card.data.id);
    const [start, end] = [ids.indexOf(fromId), ids.indexOf(toId)].sort((a, b) => a - b);
    if (start < 0) return this.toggle(toId, on);
    for (const id of ids.slice(start, end + 1)) this.toggle(id, on);
  }

  updateSelection() {
    const count = this.selected.size;
    this.toolbar.hidden = count === 0;
    this.selectedCount.textContent = `${count} selected`;
  }

  clearSelection() {
    for (const id of [...this.selected]) this.toggle(id, false);
    this.updateSelection();
  }

  // ------------------------------------------------------------ decisions

  /** Decide the selected cards, or else the given (or focused) one. */
  async decide(action, reason, only) {
    if (this.busy) return;
    if (!this.labels[action]) {
      this.announce(action === "approve" ? "These comments are already approved." : "These comments are already rejected.");
      return;
    }
    const targets = only ? [only] : this.selected.size ? this.cards.filter((card) => this.selected.has(card.data.id)) : [this.card(this.currentId)].filter(Boolean);
    if (!targets.length) return;
    this.busy = true;
    this.showAlert("");
    try {
      if (targets.length === 1) await this.decideOne(action, reason, targets[0]);
      else await this.decideMany(action, reason, targets);
    } catch {
      this.showAlert("The server cannot be reached; nothing was decided. Try again.");
    } finally {
      this.busy = false;
    }
  }

  async decideOne(action, reason, card) {
    const body = { action, expected_status: card.data.status };
    if (reason) body.reason = reason;
    const result = await this.request(`/comments/${card.data.id}/decision`, { method: "POST", body });
    if (result.status === 200) {
      const index = this.cards.indexOf(card);
      this.removeCards([card]);
      this.adjustCounts(action, 1);
      this.offerUndo(action, [{ card, index }], result);
      this.announce(`${DONE_WORDS[action]} the comment by ${card.data.author_name}.${this.leftText()}`);
    } else if ([403, 404, 409].includes(result.status)) {
      // Already decided elsewhere, gone, or not ours: it no longer belongs in this queue.
      this.removeCards([card]);
      this.showAlert(ModerationConsole.message(result, "This comment can no longer be decided here."));
    } else {
      this.showAlert(ModerationConsole.message(result, "The decision could not be saved. Try again."));
    }
  }

  async decideMany(action, reason, cards) {
    const body = { action, items: cards.map((card) => ({ id: card.data.id, expected_status: card.data.status })) };
    if (reason) body.reason = reason;
    const result = await this.request("/decisions", { method: "POST", body });
    if (result.status !== 200) {
      this.showAlert(ModerationConsole.message(result, "The decisions could not be saved. Try again."));
      return;
    }
    const byId = new Map(cards.map((card) => [card.data.id, card]));
    const done = [];
    const gone = [];
    const problems = [];
    for (const item of result.data.results) {
      const card = byId.get(item.id);
      if (!card) continue;
      if (!item.error) done.push({ card, index: this.cards.indexOf(card) });
      else {
        problems.push(item.error.message);
        if (["conflict", "not_found", "forbidden"].includes(item.error.code)) gone.push(card);
      }
    }
    this.removeCards([...done.map((item) => item.card), ...gone]);
    this.adjustCounts(action, done.length);
    if (done.length) this.offerUndo(action, done, result);
    if (problems.length) {
      this.showAlert(`${plural(problems.length, "comment")} could not be decided: ${[...new Set(problems)].join(" ")}`);
    }
    this.announce(`${DONE_WORDS[action]} ${plural(done.length, "comment")}.${this.leftText()}`);
  }

  leftText() {
    return ` ${plural(this.cards.length, "comment")} left on screen.`;
  }

  // ------------------------------------------------------------ undo

  /** Show the undo toast until the server's undo window (from its own clock) closes. */
  offerUndo(action, items, result) {
    this.closeUndo();
    let span = UNDO_FALLBACK_MS;
    const until = Date.parse(result.data?.undo_until || result.data?.results?.[0]?.undo_until || "");
    const now = Date.parse(result.date || "");
    // Server time against server time, so a wrong clock on this computer doesn't matter.
    if (!Number.isNaN(until) && !Number.isNaN(now) && until > now) span = Math.min(until - now, 60000);
    this.undo = { action, items, deadline: Date.now() + span };
    this.toastText.textContent = `${DONE_WORDS[action]} ${plural(items.length, "comment")}.`;
    this.toast.hidden = false;
    const tick = () => {
      const left = Math.ceil((this.undo.deadline - Date.now()) / 1000);
      if (left <= 0) return this.closeUndo();
      this.toastSeconds.textContent = `(${left} s)`;
      this.undo.timer = setTimeout(tick, 250);
    };
    tick();
  }

  closeUndo() {
    if (this.undo) clearTimeout(this.undo.timer);
    this.undo = null;
    this.toast.hidden = true;
  }

  async undoLast() {
    const undo = this.undo;
    if (!undo) {
      this.announce("There is nothing to undo.");
      return;
    }
    this.closeUndo();
    const results = await Promise.all(
      undo.items.map((item) => this.request(`/comments/${item.card.data.id}/undo`, { method: "POST" }).catch(() => null)),
    );
    const restored = [];
    const problems = [];
    undo.items.forEach((item, position) => {
      const result = results[position];
      if (result?.status === 200) restored.push(item);
      else problems.push(result ? ModerationConsole.message(result, "Undo failed.") : "The server cannot be reached.");
    });
    // Back where they were, in their old order.
    restored.sort((a, b) => a.index - b.index);
    for (const item of restored) {
      if (!this.card(item.card.data.id)) this.insertCard(item.card.data, Math.min(item.index, this.cards.length));
    }
    if (restored.length) {
      this.adjustCounts(undo.action, -restored.length);
      this.updateEmpty();
      this.setCurrent(restored[0].card.data.id);
      this.announce(`Undone: ${plural(restored.length, "comment")} back in the queue.`);
    }
    if (problems.length) this.showAlert(`Could not undo: ${[...new Set(problems)].join(" ")}`);
  }

  // ------------------------------------------------------------ messages and help

  showAlert(text) {
    this.alert.textContent = text;
    this.alert.hidden = !text;
  }

  announce(text) {
    // Cleared first so the same words twice in a row are announced twice.
    this.announcer.textContent = "";
    setTimeout(() => (this.announcer.textContent = text), 50);
  }

  openHelp() {
    if (this.help.open) return;
    this.helpReturn = document.activeElement;
    this.help.showModal();
  }

  // ------------------------------------------------------------ article pre-moderation

  /** Switch pre-moderation of a card's article; every card of that article follows. */
  async togglePremoderation(card, button) {
    if (!card || this.premoderateBusy) return;
    const article = card.data.article || {};
    const wanted = button.getAttribute("aria-pressed") !== "true";
    const path = `/sites/${encodeURIComponent(card.data.site)}/articles/${encodeURIComponent(article.id)}/premoderation`;
    this.premoderateBusy = true;
    let result;
    try {
      result = await this.request(path, { method: "PUT", body: { premoderated: wanted } });
    } catch {
      result = null;
    } finally {
      this.premoderateBusy = false;
    }
    if (!result || result.status !== 200) {
      this.showAlert(
        result
          ? ModerationConsole.message(result, "The article's pre-moderation could not be changed. Try again.")
          : "The server cannot be reached; nothing changed. Try again.",
      );
      return;
    }
    this.showAlert("");
    const state = Boolean(result.data.premoderated);
    for (const other of this.cards) {
      if (other.data.site !== card.data.site || other.data.article?.id !== article.id) continue;
      other.data.article.premoderated = state;
      other.node.querySelector("[data-premoderate]")?.setAttribute("aria-pressed", String(state));
    }
    const title = article.title || article.id;
    this.announce(
      state
        ? `“${title}” is pre-moderated: every new comment on it waits for a moderator.`
        : `“${title}” is no longer pre-moderated.`,
    );
  }

  // ------------------------------------------------------------ bans

  banField(name) {
    return this.banForm.elements.namedItem(name);
  }

  showBanErrors(errors = {}, message = "") {
    for (const node of this.banForm.querySelectorAll("[data-ban-error]")) {
      const text = (errors[node.dataset.banError] || []).join(" ");
      node.textContent = text;
      node.hidden = !text;
    }
    for (const name of ["until", "reason", "public_reason"]) {
      const field = this.banField(name);
      if (errors[name]) field.setAttribute("aria-invalid", "true");
      else field.removeAttribute("aria-invalid");
    }
    const alert = this.banForm.querySelector("[data-ban-alert]");
    alert.textContent = message;
    alert.hidden = !message;
  }

  /** Open the Ban dialog for a card's author, offering only the targets their comment has. */
  async openBan(card, opener) {
    if (!card || this.banDialog.open) return;
    const targets = card.data.ban_targets || [];
    this.banCard = card;
    this.banReturn = opener || card.node;
    this.banForm.reset();
    this.showBanErrors();
    this.banDialog.querySelector("[data-ban-author]").textContent = card.data.author_name;
    this.banDialog.querySelector("[data-ban-site]").textContent = `This site (${card.data.site})`;
    const available = new Set(targets);
    let first = null;
    for (const label of this.banForm.querySelectorAll("[data-ban-target]")) {
      const input = label.querySelector("input");
      const offered = available.has(label.dataset.banTarget);
      label.hidden = !offered;
      input.disabled = !offered;
      if (offered && !first) first = input;
    }
    this.banForm.querySelector("[data-ban-no-targets]").hidden = Boolean(first);
    this.banForm.querySelector('button[type="submit"]').disabled = !first;
    if (first) first.checked = true;
    this.banDialog.showModal();
    (first || this.banField("reason")).focus();
  }

  async submitBan() {
    const card = this.banCard;
    if (!card || this.banBusy) return;
    const form = this.banForm;
    const target = form.querySelector('input[name="target"]:checked')?.value;
    const reason = this.banField("reason").value.trim();
    const errors = {};
    if (!target) errors.target = ["Choose what to ban by."];
    if (!reason) errors.reason = ["Say why (moderators and operators see it; the commenter doesn't)."];
    if (Object.keys(errors).length) {
      this.showBanErrors(errors);
      (errors.target ? form.querySelector('input[name="target"]:not(:disabled)') : this.banField("reason"))?.focus();
      return;
    }
    const body = {
      target,
      comment_id: card.data.id,
      kind: form.querySelector('input[name="kind"]:checked')?.value || "hard",
      reason,
      reject_existing: this.banField("reject_existing").checked,
    };
    if (this.banField("scope").value === "all") body.all = true;
    else body.site = card.data.site;
    const until = this.banField("until").value;
    if (until) body.until = until;
    const publicReason = this.banField("public_reason").value.trim();
    if (publicReason) body.public_reason = publicReason;

    this.banBusy = true;
    let result;
    try {
      result = await this.call(`${this.adminApi}/bans`, { method: "POST", body });
    } catch {
      result = null;
    } finally {
      this.banBusy = false;
    }
    if (!result) {
      this.showBanErrors({}, "The server cannot be reached; nobody was banned. Try again.");
      return;
    }
    if (result.status !== 201) {
      const fields = { ...(result.data?.error?.fields || {}) };
      // The dialog's one "Where" field stands for the API's site and all.
      const scope = [...(fields.site || []), ...(fields.all || [])];
      if (scope.length) fields.scope = scope;
      const shown = ["target", "scope", "until", "reason", "public_reason"].some((name) => fields[name]);
      this.showBanErrors(fields, shown ? "" : ModerationConsole.message(result, "The ban could not be added. Try again."));
      return;
    }
    const ban = result.data;
    this.banDialog.close();
    this.markBanned(card);
    let gone = 0;
    if (body.reject_existing && ban.rejected_count > 0) gone = await this.dropRejectedByBan(ban);
    const where = ban.site ? `on ${ban.site}` : "on all sites";
    let text = `Banned ${TARGET_WORDS[target] || target} of ${card.data.author_name} ${where}.`;
    if (body.reject_existing) text += ` ${plural(ban.rejected_count, "comment")} rejected.`;
    if (gone) text += this.leftText();
    this.announce(text);
  }

  markBanned(card) {
    card.data.banned = true;
    if (card.node.querySelector("[data-banned]")) return;
    card.node.querySelector(".card-meta").append(h("li", { class: "status status-banned", "data-banned": "", text: "Banned" }));
  }

  /** Take the comments the ban rejected off this queue, as if decided here; return how many. */
  async dropRejectedByBan(ban) {
    // The audit log names the ban in each rejection's reason ("ban #12: ..."); these are our
    // own newest entries, which the live updates skip as already on screen.
    const query = new URLSearchParams({ moderator: this.user, limit: String(Math.min(200, ban.rejected_count + 20)) });
    const result = await this.request(`/audit?${query}`).catch(() => null);
    if (!result || result.status !== 200) return 0;
    const prefix = `ban #${ban.id}:`;
    const ids = new Set(result.data.entries.filter((entry) => (entry.reason || "").startsWith(prefix)).map((entry) => entry.comment_id));
    const gone = this.cards.filter((card) => ids.has(card.data.id));
    if (gone.length) {
      this.removeCards(gone);
      this.adjustCounts("reject", gone.length);
    }
    return gone.length;
  }

  // ------------------------------------------------------------ input

  onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (this.help.open || this.banDialog.open) return; // dialogs handle their own keys (Esc closes)
    const target = event.target;
    if (target.closest?.("input:not([type=checkbox]), select, textarea, [contenteditable]")) return;
    const actions = {
      j: () => this.move(1),
      k: () => this.move(-1),
      a: () => this.decide("approve"),
      r: () => this.decide("reject"),
      s: () => this.decide("reject", "spam"),
      x: () => {
        if (this.currentId === null) return;
        this.toggle(this.currentId);
        this.anchorId = this.currentId;
        this.updateSelection();
      },
      u: () => this.undoLast(),
      b: () => this.openBan(this.card(this.currentId)),
      "?": () => this.openHelp(),
    };
    const run = actions[event.key];
    if (!run) return;
    event.preventDefault();
    run();
  }

  onClick(event) {
    const target = event.target;
    const checkbox = target.closest("[data-select]");
    if (checkbox) {
      const id = Number(checkbox.dataset.select);
      if (event.shiftKey && this.anchorId !== null) this.selectRange(this.anchorId, id, checkbox.checked);
      else this.toggle(id, checkbox.checked);
      this.anchorId = id;
      this.updateSelection();
      return;
    }
    const ban = target.closest("[data-ban]");
    if (ban) {
      this.openBan(this.card(Number(ban.dataset.ban)), ban);
      return;
    }
    const premoderate = target.closest("[data-premoderate]");
    if (premoderate) {
      this.togglePremoderation(this.card(Number(premoderate.dataset.premoderate)), premoderate);
      return;
    }
    const decide = target.closest("[data-decide]");
    if (decide) {
      const card = this.card(Number(decide.closest("li.card").dataset.id));
      const kind = decide.dataset.decide;
      if (kind === "spam") this.decide("reject", "spam", card);
      else this.decide(kind, undefined, card);
      return;
    }
    const action = target.closest("[data-action]")?.dataset.action;
    if (action === "help") this.openHelp();
    else if (action === "bulk-approve") this.decide("approve");
    else if (action === "bulk-reject") this.decide("reject");
    else if (action === "clear-selection") this.clearSelection();
    else if (action === "undo") this.undoLast();
    else if (action === "more") this.loadMore();
    else if (action === "ban-cancel") this.banDialog.close();
    else {
      const node = target.closest("li.card");
      if (node && !target.closest("a, button")) this.setCurrent(Number(node.dataset.id));
    }
  }
}

const root = document.getElementById("queue-app");
if (root) new ModerationConsole(root);

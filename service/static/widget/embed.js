// Talkback reader widget: the thread, the composer, moderation status, delete and report.
//
// Embedding:
//   <div id="talkback"></div>
//   <script src="https://COMMENTS-HOST/embed.js" data-site="ynet" data-article="4993431" async></script>
// Optional attributes: data-lang ("en" | "he"; default: the page's <html lang>), data-target (id
// of the element to render into; default "talkback"), data-limit (top-level comments per page),
// data-article-url and data-article-title (default: the canonical link and the page title).
//
// Rules this file keeps, so it runs on any page under a strict Content-Security-Policy:
// - everything renders inside an open Shadow DOM, styled only by <link rel=stylesheet> to the
//   comment host's /embed.css: no style attributes, no element.style, no inline anything;
// - user text goes in with textContent; the API's sanitized body_html is the only innerHTML;
// - the API is another origin: every call is a CORS fetch without credentials.
//
// service/widget.py serves this file after strings.js (STRINGS) inside one function wrapper.

// An async script's document.currentScript is only set while it first runs: capture it now.
const SCRIPT = document.currentScript;
const API = SCRIPT ? new URL(SCRIPT.src, location.href).origin : location.origin;
const COLLAPSE_DEPTH = 3; // replies this deep (and theirs) wait behind one "Show more replies"
const POLL_FIRST_MS = 3000;
const POLL_MAX_MS = 30000;
const LIMITS = { author_name: 60, author_email: 254, title: 120, body: 5000, note: 500 };
const FIELDS = ["author_name", "author_email", "title", "body"];
// The site's own comment length limits, learned from the first page of the thread.
const BODY_LIMITS = { min: 1 };

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
  node.append(...children.filter(Boolean));
  return node;
}

/** localStorage that never throws (private modes, full quota, disabled storage). */
const store = {
  get(key) {
    try {
      return JSON.parse(localStorage.getItem(key));
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch {
      /* not remembered: the widget still works for this page view */
    }
  },
  remove(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      /* nothing to do */
    }
  },
};

/** A random commenter key matching the API's ^[A-Za-z0-9_-]{8,64}$, kept for this browser. */
function commenterKey() {
  let key = store.get("talkback:commenter-key");
  if (typeof key === "string" && /^[A-Za-z0-9_-]{8,64}$/.test(key)) return key;
  if (crypto.randomUUID) key = crypto.randomUUID();
  else key = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  store.set("talkback:commenter-key", key);
  return key;
}

/** Call the public API; resolve {status, data, retryAfter}, reject only on network failure. */
async function api(path, { method = "GET", body, token, fresh = false } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers["X-Delete-Token"] = token;
  const response = await fetch(API + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    mode: "cors",
    credentials: "omit",
    // Revalidate threads (cheap 304s by ETag) so a reader never sees a stale page after acting.
    cache: fresh ? "no-cache" : "default",
  });
  let data = null;
  if (response.status !== 204) data = await response.json().catch(() => null);
  return { status: response.status, data, retryAfter: response.headers.get("Retry-After") };
}

const RELATIVE_UNITS = [
  ["year", 31536000],
  ["month", 2592000],
  ["week", 604800],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];

/** "5 minutes ago" in the widget's language ("now" under a minute). */
function relativeTime(formatter, iso) {
  const seconds = (Date.parse(iso) - Date.now()) / 1000;
  for (const [unit, size] of RELATIVE_UNITS) {
    if (Math.abs(seconds) >= size) return formatter.format(Math.round(seconds / size), unit);
  }
  return formatter.format(0, "second");
}

function pickLanguage(value) {
  const lang = (value || "").toLowerCase().split("-")[0];
  return Object.prototype.hasOwnProperty.call(STRINGS, lang) ? lang : "en";
}

/** The client-side checks, mirroring the API's CommentSubmitSchema. */
function validate(values, t) {
  const errors = {};
  for (const field of FIELDS) {
    const value = values[field];
    if ((field === "author_name" || field === "body") && !value) errors[field] = t.required;
    else if (value.length > LIMITS[field]) errors[field] = t.tooLong(LIMITS[field]);
    else if (field === "body" && value.length < BODY_LIMITS.min) errors[field] = t.tooShort(BODY_LIMITS.min);
  }
  if (values.author_email && !errors.author_email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.author_email)) {
    errors.author_email = t.badEmail;
  }
  return errors;
}

function hasText(draft) {
  return Boolean(draft && ((draft.title || "").trim() || (draft.body || "").trim()));
}

function countAll(comments) {
  return comments.reduce((sum, c) => sum + 1 + countAll(c.replies || []), 0);
}

// ---------------------------------------------------------------- the widget

class Talkback {
  constructor(host, options) {
    this.options = options;
    this.t = STRINGS[options.lang];
    this.rtf = new Intl.RelativeTimeFormat(options.lang, { numeric: "auto" });
    this.dateFormat = new Intl.DateTimeFormat(options.lang, { dateStyle: "medium", timeStyle: "short" });
    this.base = `/api/v1/sites/${encodeURIComponent(options.site)}/articles/${encodeURIComponent(options.article)}`;
    this.draftKey = `talkback:draft:${options.site}:${options.article}`;
    this.ownKey = `talkback:own:${options.site}`;
    this.sort = "newest";
    this.count = 0;
    this.nextCursor = null;
    this.nodes = new Map(); // comment id -> its <li>
    this.composer = null; // the one open composer: {parentId, form, fields, errors, formError}
    this.report = null; // the one open report form
    this.pollDelay = POLL_FIRST_MS;
    this.pollTimer = null;
    this.uid = 0;
    this.build(host.attachShadow({ mode: "open" }));
    this.load();
    setInterval(() => this.refreshTimes(), 60000);
    window.addEventListener("storage", (event) => this.onStorage(event));
  }

  id(prefix) {
    this.uid += 1;
    return `tb-${prefix}-${this.uid}`;
  }

  // ------------------------------------------------------------ layout

  build(shadow) {
    const t = this.t;
    this.shadow = shadow;
    this.root = h("section", {
      class: "tb",
      lang: this.options.lang,
      dir: this.t.dir,
      "aria-labelledby": "tb-heading",
      hidden: true, // shown once the stylesheet has loaded, so it never flashes unstyled
    });
    const stylesheet = h("link", { rel: "stylesheet", href: `${API}/embed.css` });
    const reveal = () => (this.root.hidden = false);
    stylesheet.addEventListener("load", reveal);
    stylesheet.addEventListener("error", reveal);
    shadow.append(stylesheet, this.root);

    this.heading = h("h2", { id: "tb-heading", class: "tb-heading", text: t.regionLabel });
    this.sortSelect = h(
      "select",
      { id: "tb-sort", class: "tb-select", onchange: () => this.changeSort() },
      h("option", { value: "newest", text: t.newest }),
      h("option", { value: "oldest", text: t.oldest }),
    );
    this.newButton = h("button", {
      type: "button",
      class: "tb-button tb-primary",
      text: t.newComment,
      onclick: (event) => this.openComposer(null, { opener: event.currentTarget }),
    });
    this.topSlot = h("div", { class: "tb-top-slot" });
    this.status = h("p", { class: "tb-status", role: "status", "aria-live": "polite" });
    this.problem = h("div", { class: "tb-problem", role: "alert", hidden: true });
    this.thread = h("ol", { class: "tb-thread" });
    this.empty = h("p", { class: "tb-empty", text: t.empty, hidden: true });
    this.more = h("button", {
      type: "button",
      class: "tb-button tb-more",
      text: t.loadMore,
      hidden: true,
      onclick: () => this.loadMore(),
    });
    this.toolbar = h(
      "div",
      { class: "tb-toolbar", hidden: true },
      this.newButton,
      h("div", { class: "tb-sort" }, h("label", { for: "tb-sort", text: t.sortLabel }), this.sortSelect),
    );
    this.dialog = this.buildDialog();
    this.root.append(
      h("header", { class: "tb-header" }, this.heading),
      this.toolbar,
      this.topSlot,
      this.status,
      this.problem,
      this.thread,
      this.empty,
      this.more,
      this.dialog.node,
    );
  }

  say(message) {
    // Re-set so the same message is announced again.
    this.status.textContent = "";
    this.status.textContent = message;
  }

  setCount(count) {
    this.count = Math.max(0, count);
    this.heading.textContent = this.t.heading(this.count);
  }

  // ------------------------------------------------------------ reading

  async load() {
    this.say(this.t.loading);
    this.problem.hidden = true;
    let page;
    try {
      page = await this.fetchPage(null);
    } catch {
      page = null;
    }
    if (!page) {
      this.say("");
      this.problem.replaceChildren(
        h("p", { text: this.t.loadFailed }),
        h("button", { type: "button", class: "tb-button", text: this.t.retry, onclick: () => this.load() }),
      );
      this.problem.hidden = false;
      return;
    }
    this.say("");
    this.toolbar.hidden = false;
    this.thread.replaceChildren();
    this.nodes.clear();
    this.renderPage(page);
    this.showOwnPending();
    this.restoreDraft();
    this.schedulePoll(POLL_FIRST_MS);
    await this.showOwnPublished();
  }

  /** Fetch one page of the thread; null when the API answered with an error. */
  async fetchPage(cursor) {
    const query = new URLSearchParams({ sort: this.sort, limit: String(this.options.limit) });
    if (cursor) query.set("cursor", cursor);
    const { status, data } = await api(`${this.base}/comments?${query}`, { fresh: true });
    return status === 200 && data ? data : null;
  }

  renderPage(page) {
    if (page.site) {
      LIMITS.body = page.site.max_comment_length;
      BODY_LIMITS.min = page.site.min_comment_length;
    }
    this.setCount(page.count);
    for (const comment of page.comments) {
      if (this.nodes.has(comment.id)) continue; // already shown (a page boundary moved)
      this.thread.append(this.renderComment(comment, 0));
    }
    this.nextCursor = page.next_cursor;
    this.more.hidden = !this.nextCursor;
    this.empty.hidden = this.thread.children.length > 0;
  }

  async loadMore() {
    this.more.disabled = true;
    try {
      const page = await this.fetchPage(this.nextCursor);
      if (page) this.renderPage(page);
      else this.say(this.t.loadFailed);
    } catch {
      this.say(this.t.loadFailed);
    }
    this.more.disabled = false;
  }

  changeSort() {
    this.sort = this.sortSelect.value;
    this.closeReport();
    // An open reply composer lives inside the thread about to be replaced: keep its draft.
    if (this.composer && this.composer.parentId !== null) this.composer = null;
    this.load();
  }

  timeElement(iso) {
    const date = new Date(iso);
    return h("time", {
      class: "tb-time",
      datetime: date.toISOString(),
      title: this.dateFormat.format(date),
      text: relativeTime(this.rtf, iso),
    });
  }

  refreshTimes() {
    for (const node of this.root.querySelectorAll("time[datetime]")) {
      node.textContent = relativeTime(this.rtf, node.getAttribute("datetime"));
    }
  }

  /** Render one comment (or tombstone) with its replies; deep replies start collapsed. */
  renderComment(comment, depth) {
    const t = this.t;
    const li = h("li", { class: "tb-comment", id: `tb-c${comment.id}`, "data-id": comment.id });
    this.nodes.set(comment.id, li);
    const own = this.ownEntries()[comment.id];
    if (own?.status === "pending" && !comment.deleted) {
      // Published while this page was closed: it is counted already, so no "published" news.
      this.saveOwn(comment.id, { ...own, status: "approved" });
    }
    if (comment.deleted) {
      li.classList.add("tb-deleted");
      li.append(h("p", { class: "tb-tombstone", text: t.deleted }));
    } else {
      li.append(this.renderCard(comment));
    }
    const replies = comment.replies || [];
    if (replies.length) {
      const list = h("ol", { class: "tb-replies" });
      for (const reply of replies) list.append(this.renderComment(reply, depth + 1));
      if (depth + 1 === COLLAPSE_DEPTH) {
        list.hidden = true;
        list.id = this.id("replies");
        const more = h("button", {
          type: "button",
          class: "tb-link tb-show-replies",
          "aria-controls": list.id,
          "aria-expanded": "false",
          text: t.showReplies(countAll(replies)),
          onclick: () => {
            list.hidden = false;
            more.remove();
            list.querySelector("button, [tabindex]")?.focus();
          },
        });
        li.append(more);
      }
      li.append(list);
    }
    return li;
  }

  /** The visible part of a comment: author, time, title, body and its actions. */
  renderCard(comment, { pending = false } = {}) {
    const t = this.t;
    const own = this.ownEntries()[comment.id];
    const card = h("article", { class: "tb-card", tabindex: "-1", "aria-labelledby": `tb-a${comment.id}` });
    const meta = h(
      "p",
      { class: "tb-meta" },
      h("span", { class: "tb-author", id: `tb-a${comment.id}`, dir: "auto", text: comment.author_name }),
      this.timeElement(comment.created_at),
      own ? h("span", { class: "tb-you", text: t.you }) : null,
    );
    card.append(meta);
    if (pending) {
      card.classList.add("tb-pending");
      meta.append(h("span", { class: "tb-badge", text: t.pending }));
    }
    if (comment.title) card.append(h("h3", { class: "tb-title", dir: "auto", text: comment.title }));
    const body = h("div", { class: "tb-body", dir: "auto" });
    if (comment.body_html) body.innerHTML = comment.body_html; // sanitized by the API: the only HTML we insert
    else body.textContent = comment.body_text || ""; // our own text before the API has it
    card.append(body);
    if (pending) card.append(h("p", { class: "tb-note", text: t.pendingNote }));

    const actions = h("div", { class: "tb-actions" });
    if (!pending) {
      actions.append(
        h("button", {
          type: "button",
          class: "tb-link",
          text: t.reply,
          "aria-describedby": `tb-a${comment.id}`,
          onclick: (event) => this.openComposer(comment.id, { opener: event.currentTarget, parentName: comment.author_name }),
        }),
      );
    }
    if (own) {
      actions.append(
        h("button", {
          type: "button",
          class: "tb-link tb-danger",
          text: t.delete,
          "aria-describedby": `tb-a${comment.id}`,
          onclick: (event) => this.deleteOwn(comment.id, event.currentTarget),
        }),
      );
    } else {
      actions.append(
        h("button", {
          type: "button",
          class: "tb-link",
          text: t.report,
          "aria-describedby": `tb-a${comment.id}`,
          onclick: (event) => this.openReport(comment.id, event.currentTarget),
        }),
      );
    }
    card.append(actions, h("div", { class: "tb-slot" }));
    return card;
  }

  /** Where a reply to `parentId` goes: its card's slot, or the top slot if not on the page. */
  slotFor(parentId) {
    if (parentId === null) return this.topSlot;
    const li = this.nodes.get(parentId);
    return li?.querySelector(":scope > .tb-card > .tb-slot") || this.topSlot;
  }

  // ------------------------------------------------------------ the composer and its draft

  readDraft() {
    const draft = store.get(this.draftKey);
    return draft && typeof draft === "object" ? draft : null;
  }

  composerValues() {
    const values = {};
    for (const field of FIELDS) values[field] = this.composer.fields[field].value.trim();
    return values;
  }

  saveDraft() {
    if (!this.composer) return;
    const draft = { parentId: this.composer.parentId, parentName: this.composer.parentName };
    for (const field of FIELDS) draft[field] = this.composer.fields[field].value;
    // An empty draft is no draft: nothing to restore, nothing to ask about.
    if (hasText(draft)) store.set(this.draftKey, draft);
    else store.remove(this.draftKey);
  }

  /**
   * Open the composer for a new comment (parentId null) or a reply. A different composer with
   * text open asks first; cancel leaves everything as it was.
   */
  async openComposer(parentId, { opener = null, parentName = null, draft = null, focus = true } = {}) {
    this.closeReport();
    if (this.composer) {
      if (this.composer.parentId === parentId) {
        this.focusFirstField();
        return;
      }
      if (!(await this.closeComposer({ opener }))) return;
    }
    const form = this.buildComposer(parentId, parentName || draft?.parentName || null, opener);
    const author = store.get("talkback:author") || {};
    const fields = this.composer.fields;
    fields.author_name.value = draft?.author_name ?? author.name ?? "";
    fields.author_email.value = draft?.author_email ?? author.email ?? "";
    fields.title.value = draft?.title ?? "";
    fields.body.value = draft?.body ?? "";
    this.slotFor(parentId).append(form);
    if (focus) this.focusFirstField();
  }

  focusFirstField() {
    const { fields } = this.composer;
    (fields.author_name.value ? fields.body : fields.author_name).focus();
  }

  /** Close the open composer; with text, only if the reader confirms. Resolves whether it closed. */
  async closeComposer({ opener = null } = {}) {
    if (!this.composer) return true;
    if (hasText(this.composerValues())) {
      const confirmed = await this.confirm(
        { title: this.t.discardTitle, text: this.t.discardText, yes: this.t.discardConfirm, no: this.t.discardCancel },
        opener,
      );
      if (!confirmed) return false;
    }
    this.discardComposer();
    return true;
  }

  discardComposer() {
    if (!this.composer) return;
    this.composer.form.remove();
    this.composer = null;
    store.remove(this.draftKey);
  }

  buildComposer(parentId, parentName, opener) {
    const t = this.t;
    const fields = {};
    const errors = {};
    const form = h("form", { class: "tb-composer", novalidate: true, "aria-label": t.composerLabel });
    if (parentId !== null) {
      form.append(h("p", { class: "tb-replying", dir: "auto", text: t.replyingTo(parentName || `#${parentId}`) }));
    }
    const formError = h("p", { class: "tb-form-error", id: this.id("form-error"), hidden: true });
    form.append(formError);
    const spec = {
      author_name: { label: t.name, autocomplete: "name", required: true },
      author_email: { label: t.email, type: "email", autocomplete: "email" },
      title: { label: t.title },
      body: { label: t.body, multiline: true, required: true },
    };
    for (const field of FIELDS) {
      const { label, type = "text", autocomplete, required, multiline } = spec[field];
      const inputId = this.id(field);
      const errorId = this.id(`${field}-error`);
      const attrs = {
        id: inputId,
        name: field,
        maxlength: LIMITS[field],
        "aria-required": required ? "true" : undefined,
        "aria-describedby": errorId,
        dir: "auto",
        oninput: () => this.saveDraft(),
      };
      fields[field] = multiline
        ? h("textarea", { ...attrs, rows: 5 })
        : h("input", { ...attrs, type, autocomplete: autocomplete || "off" });
      errors[field] = h("p", { class: "tb-error", id: errorId, hidden: true });
      form.append(h("div", { class: "tb-field" }, h("label", { for: inputId, text: label }), fields[field], errors[field]));
    }
    const submit = h("button", { type: "submit", class: "tb-button tb-primary", text: t.post });
    const cancel = h("button", {
      type: "button",
      class: "tb-button",
      text: t.cancel,
      onclick: async (event) => {
        const target = event.currentTarget;
        if (await this.closeComposer({ opener: target })) (opener?.isConnected ? opener : this.newButton).focus();
      },
    });
    form.append(h("div", { class: "tb-form-actions" }, submit, cancel));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.composer = { parentId, parentName, form, fields, errors, formError, submit };
    return form;
  }

  showErrors(fieldErrors, message) {
    const { fields, errors, formError } = this.composer;
    for (const field of FIELDS) {
      const text = fieldErrors[field];
      errors[field].textContent = text || "";
      errors[field].hidden = !text;
      if (text) fields[field].setAttribute("aria-invalid", "true");
      else fields[field].removeAttribute("aria-invalid");
    }
    formError.textContent = message || "";
    formError.hidden = !message;
    if (message) this.say(message);
    const first = FIELDS.find((field) => fieldErrors[field]);
    if (first) fields[first].focus();
  }

  async submit() {
    const composer = this.composer;
    const t = this.t;
    const values = this.composerValues();
    const problems = validate(values, t);
    if (Object.keys(problems).length) {
      this.showErrors(problems, t.fixFields);
      return;
    }
    this.showErrors({}, "");
    const payload = { author_name: values.author_name, body: values.body, commenter_key: commenterKey() };
    if (values.author_email) payload.author_email = values.author_email;
    if (values.title) payload.title = values.title;
    if (composer.parentId !== null) payload.parent_id = composer.parentId;
    Object.assign(payload, this.articleInfo());

    composer.submit.disabled = true;
    composer.submit.textContent = t.posting;
    let answer;
    try {
      answer = await api(`${this.base}/comments`, { method: "POST", body: payload });
    } catch {
      answer = null;
    }
    composer.submit.disabled = false;
    composer.submit.textContent = t.post;
    if (this.composer !== composer) return; // closed meanwhile (another tab)

    if (!answer) return this.showErrors({}, t.networkError);
    const { status, data, retryAfter } = answer;
    if (status === 202 && data) return this.posted(data, values, composer.parentId);
    if (status === 429) return this.showErrors({}, t.rateLimited(Number.parseInt(retryAfter, 10) || 60));
    const error = data?.error || {};
    const fieldErrors = {};
    const other = [];
    for (const [field, messages] of Object.entries(error.fields || {})) {
      const text = [].concat(messages).join(" ");
      if (FIELDS.includes(field)) fieldErrors[field] = text;
      else other.push(text);
    }
    const message = [error.message || (status >= 500 ? t.serverError : t.fixFields), ...other].join(" ");
    this.showErrors(fieldErrors, message);
  }

  articleInfo() {
    const canonical = document.querySelector('link[rel="canonical"]')?.href;
    const url = SCRIPT?.dataset.articleUrl || canonical || location.href.split("#")[0];
    const title = (SCRIPT?.dataset.articleTitle || document.title || "").trim().slice(0, 300);
    const info = {};
    if (/^https?:\/\//.test(url) && url.length <= 2000) info.article_url = url;
    if (title) info.article_title = title;
    return info;
  }

  posted(answer, values, parentId) {
    store.set("talkback:author", { name: values.author_name, email: values.author_email });
    const entry = {
      token: answer.delete_token,
      article: this.options.article,
      status: "pending",
      parent_id: parentId,
      author_name: values.author_name,
      title: values.title || null,
      body_text: values.body,
      body_html: null,
      created_at: new Date().toISOString(),
    };
    this.saveOwn(answer.id, entry);
    this.discardComposer();
    const li = this.placeOwn(answer.id, entry);
    this.say(this.t.posted);
    li.querySelector(".tb-card").focus();
    this.schedulePoll(POLL_FIRST_MS);
  }

  // ------------------------------------------------------------ own comments: pending, published, deleted

  ownEntries() {
    const own = store.get(this.ownKey);
    return own && typeof own === "object" ? own : {};
  }

  saveOwn(id, entry) {
    const own = this.ownEntries();
    if (entry) own[id] = entry;
    else delete own[id];
    store.set(this.ownKey, own);
  }

  /** Show an own comment that only its author can see (pending) where it belongs. */
  placeOwn(id, entry, pending = true) {
    const comment = { id, ...entry };
    const li = h("li", { class: "tb-comment", id: `tb-c${id}`, "data-id": id });
    li.append(this.renderCard(comment, { pending }));
    this.nodes.set(id, li);
    const parent = entry.parent_id !== null ? this.nodes.get(entry.parent_id) : null;
    if (parent) {
      let list = parent.querySelector(":scope > .tb-replies");
      if (!list) {
        list = h("ol", { class: "tb-replies" });
        parent.append(list);
      }
      list.hidden = false;
      parent.querySelector(":scope > .tb-show-replies")?.remove();
      list.append(li);
    } else {
      this.thread.prepend(li);
    }
    this.empty.hidden = true;
    return li;
  }

  pendingIds() {
    const own = this.ownEntries();
    return Object.keys(own).filter((id) => own[id].article === this.options.article && own[id].status === "pending");
  }

  showOwnPending() {
    const own = this.ownEntries();
    for (const id of this.pendingIds()) {
      if (!this.nodes.has(Number(id))) this.placeOwn(Number(id), own[id]);
    }
  }

  /**
   * Show the author's published comments that the thread left out. On a later page they are
   * simply shown early; when the whole thread is loaded, they are hidden by a shadow ban, and
   * the author must see them (and the count) as if they were not.
   */
  async showOwnPublished() {
    const own = this.ownEntries();
    const missing = Object.keys(own).filter(
      (id) => own[id].article === this.options.article && own[id].status === "approved" && !this.nodes.has(Number(id)),
    );
    for (const id of missing) {
      let answer;
      try {
        answer = await api(`/api/v1/comments/${id}`, { token: own[id].token });
      } catch {
        continue;
      }
      const { status, data } = answer;
      if (status === 200 && data.status === "approved") {
        if (this.nodes.has(Number(id))) continue; // arrived with a page meanwhile
        this.placeOwn(Number(id), { ...own[id], ...data, parent_id: data.parent_id ?? null }, false);
        if (!this.nextCursor) this.setCount(this.count + 1);
      } else if (status === 403 || status === 404 || (status === 200 && data.status !== "approved")) {
        this.saveOwn(id, null); // deleted, removed by a moderator, or erased: nothing to show
      }
    }
  }

  /** Poll the author's view of pending comments, backing off, until none is pending. */
  schedulePoll(delay) {
    clearTimeout(this.pollTimer);
    this.pollDelay = delay;
    if (this.pendingIds().length) this.pollTimer = setTimeout(() => this.poll(), delay);
  }

  async poll() {
    for (const id of this.pendingIds()) {
      const entry = this.ownEntries()[id];
      let answer;
      try {
        answer = await api(`/api/v1/comments/${id}`, { token: entry.token });
      } catch {
        continue; // offline for now: try again later
      }
      const { status, data } = answer;
      if (status === 403 || status === 404 || (status === 200 && data.status === "deleted")) {
        this.saveOwn(id, null);
        this.nodes.get(Number(id))?.remove();
      } else if (status === 200 && data.status === "approved") {
        this.published(Number(id), entry, data);
      } else if (status === 200 && data.status === "rejected") {
        this.rejected(Number(id));
      } else if (status === 200 && !entry.body_html && data.body_html) {
        // Still waiting: show the body as the API will publish it (sanitized).
        this.saveOwn(id, { ...entry, body_html: data.body_html });
        const body = this.nodes.get(Number(id))?.querySelector(":scope > .tb-card .tb-body");
        if (body) body.innerHTML = data.body_html;
      }
    }
    this.schedulePoll(Math.min(this.pollDelay * 1.5, POLL_MAX_MS));
  }

  published(id, entry, data) {
    this.saveOwn(id, { ...entry, status: "approved", body_html: data.body_html });
    const li = this.nodes.get(id);
    if (li) {
      const card = this.renderCard({ ...data, id, parent_id: data.parent_id ?? null });
      li.querySelector(":scope > .tb-card").replaceWith(card);
    }
    this.setCount(this.count + 1);
    this.say(this.t.published);
  }

  rejected(id) {
    this.saveOwn(id, null); // shown once, then forgotten
    const li = this.nodes.get(id);
    if (!li) return;
    this.nodes.delete(id);
    const notice = h(
      "div",
      { class: "tb-card tb-rejected", tabindex: "-1" },
      h("p", { text: this.t.rejected }),
      h("button", {
        type: "button",
        class: "tb-link",
        text: this.t.dismiss,
        onclick: () => {
          li.remove();
          this.newButton.focus();
        },
      }),
    );
    li.querySelector(":scope > .tb-card").replaceWith(notice);
    this.say(this.t.rejected);
  }

  async deleteOwn(id, opener) {
    const t = this.t;
    const entry = this.ownEntries()[id];
    if (!entry) return;
    const confirmed = await this.confirm(
      { title: t.deleteTitle, text: t.deleteText, yes: t.deleteConfirm, no: t.cancel },
      opener,
    );
    if (!confirmed) return;
    let status;
    try {
      ({ status } = await api(`/api/v1/comments/${id}`, { method: "DELETE", token: entry.token }));
    } catch {
      status = 0;
    }
    if (status !== 204 && status !== 404 && status !== 403) {
      this.say(t.deleteFailed);
      opener.focus();
      return;
    }
    this.saveOwn(id, null);
    if (entry.status === "approved") this.setCount(this.count - 1);
    const li = this.nodes.get(id);
    if (li?.querySelector(":scope > .tb-replies > li")) {
      li.classList.add("tb-deleted");
      li.querySelector(":scope > .tb-card").replaceWith(h("p", { class: "tb-tombstone", text: t.deleted }));
    } else {
      li?.remove();
      this.nodes.delete(id);
    }
    this.empty.hidden = this.thread.children.length > 0;
    this.say(t.deleteDone);
    this.newButton.focus();
  }

  // ------------------------------------------------------------ reporting

  openReport(id, opener) {
    const t = this.t;
    if (this.report?.id === id) return;
    this.closeReport();
    const name = this.id("reason");
    const legendId = this.id("legend");
    const reasonError = h("p", { class: "tb-error", id: this.id("reason-error"), hidden: true });
    const noteId = this.id("note");
    const noteError = h("p", { class: "tb-error", id: this.id("note-error"), hidden: true });
    const note = h("textarea", { id: noteId, rows: 3, maxlength: LIMITS.note, dir: "auto", "aria-describedby": noteError.id });
    const radios = Object.entries(t.reasons).map(([value, label]) =>
      h("label", { class: "tb-radio" }, h("input", { type: "radio", name, value }), document.createTextNode(label)),
    );
    const send = h("button", { type: "submit", class: "tb-button tb-primary", text: t.reportSend });
    const form = h(
      "form",
      { class: "tb-report", novalidate: true, "aria-labelledby": legendId },
      h(
        "fieldset",
        { "aria-describedby": reasonError.id },
        h("legend", { id: legendId, text: t.reportLegend }),
        ...radios,
        reasonError,
      ),
      h("div", { class: "tb-field" }, h("label", { for: noteId, text: t.reportNote }), note, noteError),
      h(
        "div",
        { class: "tb-form-actions" },
        send,
        h("button", {
          type: "button",
          class: "tb-button",
          text: t.cancel,
          onclick: () => {
            this.closeReport();
            opener.focus();
          },
        }),
      ),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const reason = form.querySelector("input[type=radio]:checked")?.value;
      const text = note.value.trim();
      const problems = {
        reason: reason ? "" : t.required,
        note: text.length > LIMITS.note ? t.tooLong(LIMITS.note) : reason === "other" && !text ? t.reportNoteRequired : "",
      };
      reasonError.textContent = problems.reason;
      reasonError.hidden = !problems.reason;
      noteError.textContent = problems.note;
      noteError.hidden = !problems.note;
      note.toggleAttribute("aria-invalid", Boolean(problems.note));
      if (problems.reason) return form.querySelector("input[type=radio]").focus();
      if (problems.note) return note.focus();
      send.disabled = true;
      const body = { reason, commenter_key: commenterKey() };
      if (text) body.note = text;
      let answer;
      try {
        answer = await api(`/api/v1/comments/${id}/reports`, { method: "POST", body });
      } catch {
        answer = null;
      }
      send.disabled = false;
      if (answer?.status === 202) {
        this.closeReport();
        opener.replaceWith(h("span", { class: "tb-reported", text: t.reportThanks }));
        this.say(t.reportThanks);
        this.nodes.get(id)?.querySelector(".tb-card")?.focus();
        return;
      }
      const message = !answer
        ? t.networkError
        : answer.status === 429
          ? t.rateLimited(Number.parseInt(answer.retryAfter, 10) || 60)
          : answer.data?.error?.message || t.reportFailed;
      noteError.textContent = message;
      noteError.hidden = false;
      this.say(message);
    });
    this.report = { id, form };
    this.slotFor(id).append(form);
    form.querySelector("input[type=radio]").focus();
  }

  closeReport() {
    this.report?.form.remove();
    this.report = null;
  }

  // ------------------------------------------------------------ the confirm dialog

  buildDialog() {
    const titleId = "tb-dialog-title";
    const textId = "tb-dialog-text";
    const title = h("h2", { id: titleId, class: "tb-dialog-title" });
    const text = h("p", { id: textId });
    const no = h("button", { type: "button", class: "tb-button", value: "no" });
    const yes = h("button", { type: "button", class: "tb-button tb-danger-button", value: "yes" });
    const node = h(
      "dialog",
      { class: "tb-dialog", role: "alertdialog", "aria-modal": "true", "aria-labelledby": titleId, "aria-describedby": textId },
      title,
      text,
      h("div", { class: "tb-form-actions" }, yes, no),
    );
    // Keep Tab inside the dialog (showModal makes the page inert, but Tab could reach the
    // browser's own UI); Escape fires "cancel", which closes it as "no".
    node.addEventListener("keydown", (event) => {
      if (event.key !== "Tab") return;
      const order = [yes, no];
      const index = order.indexOf(this.shadow.activeElement);
      const next = (index + (event.shiftKey ? order.length - 1 : 1)) % order.length;
      event.preventDefault();
      order[next].focus();
    });
    return { node, title, text, yes, no };
  }

  /** Ask in the widget's own alertdialog; resolve true for yes. Focus returns to `opener`. */
  confirm({ title, text, yes, no }, opener) {
    const dialog = this.dialog;
    dialog.title.textContent = title;
    dialog.text.textContent = text;
    dialog.yes.textContent = yes;
    dialog.no.textContent = no;
    const returnTo = opener || this.shadow.activeElement;
    return new Promise((resolve) => {
      const finish = (answer) => {
        dialog.yes.onclick = dialog.no.onclick = dialog.node.oncancel = null;
        dialog.node.close();
        if (!answer && returnTo?.isConnected) returnTo.focus();
        resolve(answer);
      };
      dialog.yes.onclick = () => finish(true);
      dialog.no.onclick = () => finish(false);
      dialog.node.oncancel = (event) => {
        event.preventDefault();
        finish(false);
      };
      dialog.node.showModal();
      dialog.no.focus(); // the safe choice is the default
    });
  }

  // ------------------------------------------------------------ drafts across reloads and tabs

  restoreDraft() {
    const draft = this.readDraft();
    if (!hasText(draft) || this.composer) return;
    const parentId = Number.isInteger(draft.parentId) ? draft.parentId : null;
    this.openComposer(parentId, { draft, focus: false });
  }

  onStorage(event) {
    if (event.key === this.draftKey) {
      const draft = this.readDraft();
      if (!hasText(draft)) {
        // Posted or discarded in another tab: the draft is gone here too.
        if (this.composer && hasText(this.composerValues())) this.discardComposer();
        return;
      }
      const parentId = Number.isInteger(draft.parentId) ? draft.parentId : null;
      if (this.composer && this.composer.parentId === parentId) {
        for (const field of FIELDS) {
          const input = this.composer.fields[field];
          if (input.value !== (draft[field] ?? "")) input.value = draft[field] ?? "";
        }
      } else {
        // The one draft moved to another comment in the other tab: follow it without asking.
        if (this.composer) this.composer.form.remove();
        this.composer = null;
        this.openComposer(parentId, { draft, focus: false });
      }
    } else if (event.key === this.ownKey) {
      this.showOwnPending();
      this.schedulePoll(POLL_FIRST_MS);
    }
  }
}

// ---------------------------------------------------------------- start

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
  const launch = (lang) => new Talkback(host, { site: data.site, article: data.article, limit, lang: pickLanguage(lang) });
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

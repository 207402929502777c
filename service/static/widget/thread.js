// @ts-check
// The thread: the Talkback widget itself, its layout, and reading and rendering comments.

function countAll(comments) {
  return comments.reduce((sum, c) => sum + 1 + countAll(c.replies || []), 0);
}

// ---------------------------------------------------------------- the widget

class Talkback {
  // Each part of the widget is a file of functions that run as methods of this class
  // (service/widget.py serves them all in one scope); here they become its methods.
  // composer.js
  composerValues = composerValues;
  openComposer = openComposer;
  focusFirstField = focusFirstField;
  closeComposer = closeComposer;
  discardComposer = discardComposer;
  buildComposer = buildComposer;
  showErrors = showErrors;
  submit = submit;
  articleInfo = articleInfo;
  posted = posted;
  // drafts.js
  readDraft = readDraft;
  saveDraft = saveDraft;
  restoreDraft = restoreDraft;
  onStorage = onStorage;
  // own.js
  ownEntries = ownEntries;
  saveOwn = saveOwn;
  placeOwn = placeOwn;
  showOwnPublished = showOwnPublished;
  deleteOwn = deleteOwn;
  // edit.js
  editButton = editButton;
  openEdit = openEdit;
  editPending = editPending;
  watchEdit = watchEdit;
  // pending.js
  pendingIds = pendingIds;
  showOwnPending = showOwnPending;
  schedulePoll = schedulePoll;
  poll = poll;
  published = published;
  rejected = rejected;
  // report.js
  openReport = openReport;
  closeReport = closeReport;
  // sso.js
  ssoStart = ssoStart;
  login = login;
  logout = logout;
  setReader = setReader;
  loginRequired = loginRequired;
  // votes.js
  ownVotes = ownVotes;
  saveVote = saveVote;
  voteButtons = voteButtons;
  // dialog.js
  buildDialog = buildDialog;
  confirm = confirmDialog;
  // live.js
  liveStart = liveStart;
  liveSchedule = liveSchedule;
  liveCheck = liveCheck;
  liveShow = liveShow;
  // featured.js
  renderPicks = renderPicks;

  constructor(host, options) {
    this.options = options;
    this.host = host;
    this.session = null; // the signed-in reader's session (sso.js), and who they are
    this.reader = null;
    this.t = STRINGS[options.lang];
    this.rtf = new Intl.RelativeTimeFormat(options.lang, { numeric: "auto" });
    this.dateFormat = new Intl.DateTimeFormat(options.lang, { dateStyle: "medium", timeStyle: "short" });
    this.base = `/api/v1/sites/${encodeURIComponent(options.site)}/articles/${encodeURIComponent(options.article)}`;
    this.draftKey = `talkback:draft:${options.site}:${options.article}`;
    this.ownKey = `talkback:own:${options.site}`;
    this.votesKey = `talkback:votes:${options.site}`;
    this.dislikes = false;
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
    this.ssoStart();
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
      h("option", { value: "top", text: t.top }),
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
    this.liveStart();
    await this.showOwnPublished();
  }

  /** Fetch one page of the thread; null when the API answered with an error. */
  async fetchPage(cursor) {
    const query = new URLSearchParams({ sort: this.sort, limit: String(this.options.limit) });
    if (cursor) query.set("cursor", cursor);
    const { status, data } = await api(`${this.base}/comments?${query}`, { fresh: true });
    // A refused cursor: the top ranking has moved on since the first page.
    if (status === 422 && cursor) return false;
    return status === 200 && data ? data : null;
  }

  renderPage(page) {
    if (page.site) {
      LIMITS.body = page.site.max_comment_length;
      BODY_LIMITS.min = page.site.min_comment_length;
      this.editWindow = page.site.edit_window_seconds;
      this.signIn = page.site.sign_in;
      this.dislikes = Boolean(page.site.dislikes_enabled);
      this.notifications = Boolean(page.site.notifications);
    }
    this.setCount(page.count);
    this.renderPicks(page.featured);
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
      if (page === false) {
        await this.load();
        this.say(this.t.rankingChanged);
      } else if (page) this.renderPage(page);
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
      ...badgeList(comment.badges),
      this.timeElement(comment.created_at),
      own ? h("span", { class: "tb-you", text: t.you }) : null,
      comment.featured ? h("span", { class: "tb-you tb-pick", text: t.pick }) : null,
      comment.edited_at ? h("span", { class: "tb-edited", text: t.edited }) : null,
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
        this.voteButtons(comment),
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
        pending ? null : this.editButton(comment),
      );
      if (own.edit === "pending") {
        this.editPending(card);
        this.watchEdit(comment.id, POLL_FIRST_MS);
      }
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
}

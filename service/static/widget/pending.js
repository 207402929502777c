// @ts-check
// Comments awaiting moderation: poll their status until published or rejected.

/** @this {Talkback} */
function pendingIds() {
  const own = this.ownEntries();
  return Object.keys(own).filter((id) => own[id].article === this.options.article && own[id].status === "pending");
}

/** @this {Talkback} */
function showOwnPending() {
  const own = this.ownEntries();
  for (const id of this.pendingIds()) {
    if (!this.nodes.has(Number(id))) this.placeOwn(Number(id), own[id]);
  }
}

/**
 * Poll the author's view of pending comments, backing off, until none is pending.
 * @this {Talkback}
 */
function schedulePoll(delay) {
  clearTimeout(this.pollTimer);
  this.pollDelay = delay;
  if (this.pendingIds().length) this.pollTimer = setTimeout(() => this.poll(), delay);
}

/** @this {Talkback} */
async function poll() {
  for (const id of this.pendingIds()) {
    const entry = this.ownEntries()[id];
    let answer;
    try {
      answer = await api(`/api/v1/comments/${id}`, { token: entry.token });
    } catch {
      continue; // offline for now: try again later
    }
    // Another poll (live.js asks one too) may have settled it meanwhile.
    if (this.ownEntries()[id]?.status !== "pending") continue;
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

/** @this {Talkback} */
function published(id, entry, data) {
  this.saveOwn(id, { ...entry, status: "approved", body_html: data.body_html });
  const li = this.nodes.get(id);
  if (li) {
    const card = this.renderCard({ ...data, id, parent_id: data.parent_id ?? null });
    li.querySelector(":scope > .tb-card").replaceWith(card);
  }
  this.setCount(this.count + 1);
  this.say(this.t.published);
}

/** @this {Talkback} */
function rejected(id) {
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

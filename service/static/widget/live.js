// @ts-check
// Live "N new comments": while the page is visible, poll the thread's tiny live answer (a 304
// from the read cache or a CDN most times), slower and slower while nothing changes. Comments
// others publish meanwhile are never pushed into what the reader is reading: a button says how
// many there are and loads them when pressed. The reader's own are pending.js's to show.

/** @this {Talkback} */
function liveStart() {
  if (!this.liveButton) {
    this.liveButton = h("button", { type: "button", class: "tb-button tb-live", hidden: true, onclick: () => this.liveShow() });
    this.thread.before(this.liveButton);
    // A hidden tab costs nothing: no timer runs until the reader is back, then it asks at once.
    document.addEventListener("visibilitychange", () => this.liveSchedule(document.hidden ? null : 0));
  }
  this.liveButton.hidden = true;
  this.liveSchedule(this.options.live);
}

/** Ask again after `delay` ms (null: stop until the page is visible again). @this {Talkback} */
function liveSchedule(delay) {
  clearTimeout(this.liveTimer);
  if (delay === null || !this.options.live || document.hidden) return;
  this.liveDelay = delay || this.options.live;
  this.liveTimer = setTimeout(() => this.liveCheck(), delay);
}

/** @this {Talkback} */
async function liveCheck() {
  let data = null;
  try {
    // Revalidated by ETag: unchanged answers are 304s the browser turns back into the same data.
    const answer = await api(`${this.base}/live`, { fresh: true });
    if (answer.status === 200) data = answer.data;
  } catch {
    // offline for now: ask again later
  }
  let delay = Math.min(this.liveDelay * 1.5, LIVE_MAX_MS);
  if (data && data.version !== this.liveVersion) {
    this.liveVersion = data.version;
    delay = this.options.live;
    // The reader's own comment may be what was published: let pending.js count it first.
    if (this.pendingIds().length) await this.poll();
    const fresh = data.approved - this.count;
    if (fresh > 0 && fresh !== this.liveFresh) this.say(this.t.newComments(fresh));
    this.liveFresh = fresh;
    this.liveButton.textContent = this.t.newComments(fresh);
    this.liveButton.hidden = fresh <= 0;
  }
  this.liveSchedule(delay);
}

/** Load the thread afresh and point the reader at what is new. @this {Talkback} */
async function liveShow() {
  const seen = new Set(this.nodes.keys());
  this.liveFresh = 0;
  await this.load();
  const fresh = [...this.nodes].filter(([id]) => !seen.has(id)).map(([, li]) => li);
  for (const li of fresh) li.classList.add("tb-new");
  /** @type {HTMLElement | null} */ (fresh[0]?.querySelector(".tb-card") || null)?.focus();
}

// @ts-check
// Loading the queue and live updates: the first page, polling events, refresh and more.

import { errorMessage } from "./api.js";
import { plural, actorName } from "./dom.js";

/** @typedef {import("./console.js").ModerationConsole} ModerationConsole */

const POLL_MS = 3000;
const REFRESH_EVERY_POLLS = 10; // reports make no audit events: refresh the list now and then

/** @this {ModerationConsole} */
export async function start() {
  const [page, events] = await Promise.all([
    this.request(this.queuePath()).catch(() => null),
    this.request(`/events${this.site ? `?site=${encodeURIComponent(this.site)}` : ""}`).catch(() => null),
  ]);
  this.loading.hidden = true;
  if (!page || page.status !== 200) {
    this.showAlert(page ? errorMessage(page, "The queue could not be loaded.") : "The server cannot be reached.");
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

/** @this {ModerationConsole} */
export function schedulePoll() {
  clearTimeout(this.pollTimer);
  this.pollTimer = setTimeout(() => this.poll(), POLL_MS);
}

/** @this {ModerationConsole} */
export async function poll() {
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

/**
 * Drop a card someone else (a colleague, the worker, the author) moved out of this queue.
 * @this {ModerationConsole}
 */
export function applyEvent(event) {
  if (event.actor === this.actor) return; // our own decisions are already on screen
  const card = this.card(event.comment_id);
  if (!card) return;
  if (this.queue !== "reported" && event.to_status === card.data.status) return;
  const who = event.actor?.startsWith("moderator:") ? actorName(event.actor) : event.actor;
  this.removeCards([card]);
  this.announce(`${card.data.author_name}'s comment was ${event.to_status} by ${who}.`);
}

/**
 * Fetch the first page again: fresh counts, and new comments placed where the order puts them.
 * @this {ModerationConsole}
 */
export async function refresh() {
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

/** @this {ModerationConsole} */
export async function loadMore() {
  if (!this.nextCursor) return;
  const result = await this.request(this.queuePath(this.nextCursor));
  if (result.status !== 200) {
    this.showAlert(errorMessage(result, "More comments could not be loaded."));
    return;
  }
  for (const data of result.data.comments) {
    if (!this.card(data.id)) this.insertCard(data, this.cards.length);
  }
  this.setMore(result.data.next_cursor);
  this.updateEmpty();
}

/** @this {ModerationConsole} */
export function setMore(cursor) {
  this.nextCursor = cursor;
  this.moreButton.hidden = !cursor;
}

/** @this {ModerationConsole} */
export function updateCounts(counts) {
  this.counts = { ...(counts || {}) };
  for (const node of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-count-for]"))) {
    const count = this.counts[node.dataset.countFor];
    node.textContent = count === undefined ? "" : String(count);
  }
}

/** @this {ModerationConsole} */
export function adjustCounts(action, count) {
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

/** @this {ModerationConsole} */
export function updateEmpty() {
  this.empty.hidden = this.cards.length > 0;
}

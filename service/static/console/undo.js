// @ts-check
// Undo: the toast after a decision, counting down the server's undo window.

import { errorMessage } from "./api.js";
import { plural } from "./dom.js";
import { DONE_WORDS } from "./labels.js";

/** @typedef {import("./console.js").ModerationConsole} ModerationConsole */

const UNDO_FALLBACK_MS = 10000;

/**
 * Show the undo toast until the server's undo window (from its own clock) closes.
 * @this {ModerationConsole}
 */
export function offerUndo(action, items, result) {
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

/** @this {ModerationConsole} */
export function closeUndo() {
  if (this.undo) clearTimeout(this.undo.timer);
  this.undo = null;
  this.toast.hidden = true;
}

/** @this {ModerationConsole} */
export async function undoLast() {
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
    else problems.push(result ? errorMessage(result, "Undo failed.") : "The server cannot be reached.");
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

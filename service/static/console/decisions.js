// @ts-check
// Deciding comments: approve, reject or spam one card or the selection.

import { errorMessage } from "./api.js";
import { plural } from "./dom.js";
import { DONE_WORDS } from "./labels.js";

/** @typedef {import("./console.js").ModerationConsole} ModerationConsole */

/**
 * Decide the selected cards, or else the given (or focused) one.
 * @this {ModerationConsole}
 * @param {string} action
 * @param {string} [reason]
 * @param {{ data: any, node: HTMLElement }} [only]
 */
export async function decide(action, reason, only) {
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

/** @this {ModerationConsole} */
export async function decideOne(action, reason, card) {
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
    this.showAlert(errorMessage(result, "This comment can no longer be decided here."));
  } else {
    this.showAlert(errorMessage(result, "The decision could not be saved. Try again."));
  }
}

/** @this {ModerationConsole} */
export async function decideMany(action, reason, cards) {
  const body = { action, items: cards.map((card) => ({ id: card.data.id, expected_status: card.data.status })) };
  if (reason) body.reason = reason;
  const result = await this.request("/decisions", { method: "POST", body });
  if (result.status !== 200) {
    this.showAlert(errorMessage(result, "The decisions could not be saved. Try again."));
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

/** @this {ModerationConsole} */
export function leftText() {
  return ` ${plural(this.cards.length, "comment")} left on screen.`;
}

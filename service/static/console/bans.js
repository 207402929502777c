// @ts-check
// Bans from a card: the shared Ban dialog and posting it to the admin API.

import { errorMessage } from "./api.js";
import { h, plural } from "./dom.js";
import { TARGET_WORDS } from "./labels.js";

/** @typedef {import("./console.js").ModerationConsole} ModerationConsole */

/** @this {ModerationConsole} */
export function banField(name) {
  return this.banForm.elements.namedItem(name);
}

/** @this {ModerationConsole} */
export function showBanErrors(errors = {}, message = "") {
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

/**
 * Open the Ban dialog for a card's author, offering only the targets their comment has.
 * @this {ModerationConsole}
 * @param {{ data: any, node: HTMLElement }} card
 * @param {HTMLElement} [opener]
 */
export async function openBan(card, opener) {
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

/** @this {ModerationConsole} */
export async function submitBan() {
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
    this.showBanErrors(fields, shown ? "" : errorMessage(result, "The ban could not be added. Try again."));
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

/** @this {ModerationConsole} */
export function markBanned(card) {
  card.data.banned = true;
  if (card.node.querySelector("[data-banned]")) return;
  card.node.querySelector(".card-meta").append(h("li", { class: "status status-banned", "data-banned": "", text: "Banned" }));
}

/**
 * Take the comments the ban rejected off this queue, as if decided here; return how many.
 * @this {ModerationConsole}
 */
export async function dropRejectedByBan(ban) {
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

// @ts-check
// Messages: the alert, screen reader announcements and the shortcuts help dialog.

/** @typedef {import("./console.js").ModerationConsole} ModerationConsole */

/** @this {ModerationConsole} */
export function showAlert(text) {
  this.alert.textContent = text;
  this.alert.hidden = !text;
}

/** @this {ModerationConsole} */
export function announce(text) {
  // Cleared first so the same words twice in a row are announced twice.
  this.announcer.textContent = "";
  setTimeout(() => (this.announcer.textContent = text), 50);
}

/** @this {ModerationConsole} */
export function openHelp() {
  if (this.help.open) return;
  this.helpReturn = document.activeElement;
  this.help.showModal();
}

// @ts-check
// Keyboard shortcuts: j/k to move, a/r/s to decide, x, u, b, f and ?.

/** @typedef {import("./console.js").ModerationConsole} ModerationConsole */

/** @this {ModerationConsole} */
export function onKey(event) {
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
    f: () => this.toggleFeature(this.card(this.currentId)),
    "?": () => this.openHelp(),
  };
  const run = actions[event.key];
  if (!run) return;
  event.preventDefault();
  run();
}

// @ts-check
// Selecting cards with checkboxes, x and shift-click ranges, and the bulk toolbar.

/** @typedef {import("./console.js").ModerationConsole} ModerationConsole */

/**
 * @this {ModerationConsole}
 * @param {number} id
 * @param {boolean} [on] selected or not; toggled when left out
 */
export function toggle(id, on) {
  const card = this.card(id);
  if (!card) return;
  const selected = on ?? !this.selected.has(id);
  if (selected) this.selected.add(id);
  else this.selected.delete(id);
  card.node.classList.toggle("is-selected", selected);
  card.node.querySelector("[data-select]").checked = selected;
}

/** @this {ModerationConsole} */
export function selectRange(fromId, toId, on) {
  const ids = this.cards.map((card) => card.data.id);
  const [start, end] = [ids.indexOf(fromId), ids.indexOf(toId)].sort((a, b) => a - b);
  if (start < 0) return this.toggle(toId, on);
  for (const id of ids.slice(start, end + 1)) this.toggle(id, on);
}

/** @this {ModerationConsole} */
export function updateSelection() {
  const count = this.selected.size;
  this.toolbar.hidden = count === 0;
  this.selectedCount.textContent = `${count} selected`;
}

/** @this {ModerationConsole} */
export function clearSelection() {
  for (const id of [...this.selected]) this.toggle(id, false);
  this.updateSelection();
}

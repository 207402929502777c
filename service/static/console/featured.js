// @ts-check
// Editors' picks: feature (pin) a published comment above its thread, or take it off (f).

import { errorMessage } from "./api.js";

/** @typedef {import("./console.js").ModerationConsole} ModerationConsole */

/**
 * Feature or unfeature a card's comment; its button and marker follow the answer.
 * @this {ModerationConsole}
 */
export async function toggleFeature(card) {
  if (!card || this.featureBusy || card.data.status !== "approved" || card.data.shadow) return;
  const wanted = !card.data.featured;
  this.featureBusy = true;
  let result;
  try {
    result = await this.request(`/comments/${card.data.id}/feature`, { method: wanted ? "PUT" : "DELETE" });
  } catch {
    result = null;
  } finally {
    this.featureBusy = false;
  }
  if (!result || result.status !== 200) {
    this.showAlert(
      result ? errorMessage(result, "The editors' pick could not be changed. Try again.") : "The server cannot be reached; nothing changed. Try again.",
    );
    return;
  }
  this.showAlert("");
  card.data.featured = Boolean(result.data.featured);
  card.node.querySelector("[data-feature]")?.setAttribute("aria-pressed", String(card.data.featured));
  const marker = card.node.querySelector("[data-featured-marker]");
  if (marker) marker.hidden = !card.data.featured;
  this.announce(
    card.data.featured
      ? `The comment by ${card.data.author_name} is an editors' pick, shown above its thread.`
      : `The comment by ${card.data.author_name} is no longer an editors' pick.`,
  );
}

// @ts-check
// DOM helpers: the element builder, times, scores and small words for the cards.
/** Create an element: attrs are attributes, except text (textContent), hidden and on{Event}. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "hidden") node.hidden = true;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}


const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function timeElement(iso) {
  if (!iso) return null;
  const date = new Date(iso);
  return h("time", { datetime: iso, text: Number.isNaN(date.valueOf()) ? iso : dateFormat.format(date) });
}

export function score(label, value) {
  if (value === null || value === undefined) return h("li", { class: "score", text: `${label} —` });
  const level = value >= 0.8 ? "score-high" : value >= 0.5 ? "score-medium" : "score-low";
  return h("li", { class: `score ${level}`, text: `${label} ${value.toFixed(2)}` });
}

export function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

export function actorName(actor) {
  return (actor || "").replace(/^moderator:/, "");
}

// @ts-check
// Talkback console, operator pages (sites, bans): ask before sending a form that closes a site or
// lifts a ban. Such forms carry data-confirm="the question"; without JavaScript they send at once.
// A file, not an inline handler: the console's CSP allows no inline scripts.

document.addEventListener("submit", (event) => {
  const form = /** @type {Element} */ (event.target).closest?.("form[data-confirm]");
  if (form instanceof HTMLFormElement && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

// @ts-check
// The confirm dialog: the widget's own alertdialog for yes/no questions.

/** @this {Talkback} */
function buildDialog() {
  const titleId = "tb-dialog-title";
  const textId = "tb-dialog-text";
  const title = h("h2", { id: titleId, class: "tb-dialog-title" });
  const text = h("p", { id: textId });
  const no = h("button", { type: "button", class: "tb-button", value: "no" });
  const yes = h("button", { type: "button", class: "tb-button tb-danger-button", value: "yes" });
  const node = h(
    "dialog",
    { class: "tb-dialog", role: "alertdialog", "aria-modal": "true", "aria-labelledby": titleId, "aria-describedby": textId },
    title,
    text,
    h("div", { class: "tb-form-actions" }, yes, no),
  );
  // Keep Tab inside the dialog (showModal makes the page inert, but Tab could reach the
  // browser's own UI); Escape fires "cancel", which closes it as "no".
  node.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const order = [yes, no];
    const index = order.indexOf(this.shadow.activeElement);
    const next = (index + (event.shiftKey ? order.length - 1 : 1)) % order.length;
    event.preventDefault();
    order[next].focus();
  });
  return { node, title, text, yes, no };
}

/**
 * Ask in the widget's own alertdialog; resolve true for yes. Focus returns to `opener`.
 * @this {Talkback}
 */
function confirmDialog({ title, text, yes, no }, opener) {
  const dialog = this.dialog;
  dialog.title.textContent = title;
  dialog.text.textContent = text;
  dialog.yes.textContent = yes;
  dialog.no.textContent = no;
  const returnTo = opener || this.shadow.activeElement;
  return new Promise((resolve) => {
    const finish = (answer) => {
      dialog.yes.onclick = dialog.no.onclick = dialog.node.oncancel = null;
      dialog.node.close();
      if (!answer && returnTo?.isConnected) returnTo.focus();
      resolve(answer);
    };
    dialog.yes.onclick = () => finish(true);
    dialog.no.onclick = () => finish(false);
    dialog.node.oncancel = (event) => {
      event.preventDefault();
      finish(false);
    };
    dialog.node.showModal();
    dialog.no.focus(); // the safe choice is the default
  });
}

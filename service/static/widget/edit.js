// @ts-check
// Editing the reader's own published comment while the site's edit window is open. The edit is
// moderated like a new comment: the published text stays until it is approved, then "(edited)".

/**
 * The card's Edit button while the window is open (removed when it closes), else null.
 * @this {Talkback}
 */
function editButton(comment) {
  const left = Date.parse(comment.created_at) + (this.editWindow || 0) * 1000 - Date.now();
  if (left <= 0) return null;
  const button = h("button", {
    type: "button",
    class: "tb-link",
    text: this.t.edit,
    "aria-describedby": `tb-a${comment.id}`,
    onclick: () => this.openEdit(comment, button),
  });
  setTimeout(() => button.remove(), left);
  return button;
}

/** @this {Talkback} */
function openEdit(comment, opener) {
  const t = this.t;
  const card = this.nodes.get(comment.id)?.querySelector(":scope > .tb-card");
  const slot = card?.querySelector(":scope > .tb-slot");
  if (!slot || slot.querySelector(".tb-composer")) return;
  const form = h("form", { class: "tb-composer", novalidate: true, "aria-label": t.editLabel });
  const error = h("p", { class: "tb-form-error", id: this.id("edit-error"), role: "alert", hidden: true });
  const field = (name, label, tag, value) => {
    const input = h(tag, { id: this.id(name), name, maxlength: LIMITS[name], dir: "auto", "aria-describedby": error.id });
    input.value = value;
    form.append(h("div", { class: "tb-field" }, h("label", { for: input.id, text: label }), input));
    return input;
  };
  const title = field("title", t.title, "input", comment.title || "");
  const body = field("body", t.body, "textarea", card.querySelector(".tb-body").innerText.trim());
  body.setAttribute("rows", "5");
  body.setAttribute("aria-required", "true");
  const save = h("button", { type: "submit", class: "tb-button tb-primary", text: t.saveEdit });
  const close = () => {
    form.remove();
    opener.focus();
  };
  form.prepend(error);
  form.append(
    h("div", { class: "tb-form-actions" }, save, h("button", { type: "button", class: "tb-button", text: t.cancel, onclick: close })),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const entry = this.ownEntries()[comment.id];
    save.disabled = true;
    let answer = null;
    try {
      answer = await api(`/api/v1/comments/${comment.id}`, {
        method: "PATCH",
        token: entry?.token,
        session: this.session,
        body: { body: body.value.trim(), title: title.value.trim() || null },
      });
    } catch {
      // offline: answer stays null and the form says so
    }
    save.disabled = false;
    if (answer?.status === 202) {
      this.saveOwn(comment.id, { ...entry, edit: "pending" });
      close();
      this.editPending(card);
      this.say(t.editPending);
      this.watchEdit(comment.id, POLL_FIRST_MS);
      return;
    }
    const problem = answer?.data?.error;
    error.textContent = [problem?.message || t.networkError, ...Object.values(problem?.fields || {}).flat()].join(" ");
    error.hidden = false;
    body.focus();
  });
  slot.append(form);
  body.focus();
}

/**
 * Mark a card as having an edit that awaits moderation (its published text stays).
 * @this {Talkback}
 */
function editPending(card) {
  if (card.querySelector(".tb-edit-note")) return;
  card.querySelector(".tb-body").after(h("p", { class: "tb-note tb-edit-note", text: this.t.editPending }));
}

/**
 * Poll the author's view until the pending edit is decided, then show the outcome.
 * @this {Talkback}
 */
function watchEdit(id, delay) {
  clearTimeout(this.editTimers?.[id]);
  this.editTimers = { ...this.editTimers, [id]: 0 };
  this.editTimers[id] = setTimeout(async () => {
    const entry = this.ownEntries()[id];
    let answer = null;
    try {
      answer = await api(`/api/v1/comments/${id}`, { token: entry?.token });
    } catch {
      // offline for now: polled again below
    }
    const edit = answer?.data?.edit;
    if (answer && answer.status !== 200) return; // deleted or erased meanwhile
    if (!edit || edit.status === "pending" || edit.status === "held") {
      return this.watchEdit(id, Math.min(delay * 1.5, POLL_MAX_MS));
    }
    this.saveOwn(id, { ...entry, edit: null });
    const card = this.nodes.get(id)?.querySelector(":scope > .tb-card");
    if (!card) return;
    if (edit.status === "approved") {
      card.replaceWith(this.renderCard({ ...answer.data, id }));
      this.say(this.t.editPublished);
    } else {
      const note = card.querySelector(".tb-edit-note");
      if (note) note.textContent = [this.t.editRejected, ...edit.reasons].join(" ");
      this.say(this.t.editRejected);
    }
  }, delay);
}

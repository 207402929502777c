// @ts-check
// Reporting a comment: the reason form and its submission.

/** @this {Talkback} */
function openReport(id, opener) {
  const t = this.t;
  if (this.report?.id === id) return;
  this.closeReport();
  const name = this.id("reason");
  const legendId = this.id("legend");
  const reasonError = h("p", { class: "tb-error", id: this.id("reason-error"), hidden: true });
  const noteId = this.id("note");
  const noteError = h("p", { class: "tb-error", id: this.id("note-error"), hidden: true });
  const note = h("textarea", { id: noteId, rows: 3, maxlength: LIMITS.note, dir: "auto", "aria-describedby": noteError.id });
  const radios = Object.entries(t.reasons).map(([value, label]) =>
    h("label", { class: "tb-radio" }, h("input", { type: "radio", name, value }), document.createTextNode(label)),
  );
  const send = h("button", { type: "submit", class: "tb-button tb-primary", text: t.reportSend });
  const form = h(
    "form",
    { class: "tb-report", novalidate: true, "aria-labelledby": legendId },
    h(
      "fieldset",
      { "aria-describedby": reasonError.id },
      h("legend", { id: legendId, text: t.reportLegend }),
      ...radios,
      reasonError,
    ),
    h("div", { class: "tb-field" }, h("label", { for: noteId, text: t.reportNote }), note, noteError),
    h(
      "div",
      { class: "tb-form-actions" },
      send,
      h("button", {
        type: "button",
        class: "tb-button",
        text: t.cancel,
        onclick: () => {
          this.closeReport();
          opener.focus();
        },
      }),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = form.querySelector("input[type=radio]:checked")?.value;
    const text = note.value.trim();
    const problems = {
      reason: reason ? "" : t.required,
      note: text.length > LIMITS.note ? t.tooLong(LIMITS.note) : reason === "other" && !text ? t.reportNoteRequired : "",
    };
    reasonError.textContent = problems.reason;
    reasonError.hidden = !problems.reason;
    noteError.textContent = problems.note;
    noteError.hidden = !problems.note;
    note.toggleAttribute("aria-invalid", Boolean(problems.note));
    if (problems.reason) return form.querySelector("input[type=radio]").focus();
    if (problems.note) return note.focus();
    send.disabled = true;
    const body = { reason, commenter_key: commenterKey() };
    if (text) body.note = text;
    let answer;
    try {
      answer = await api(`/api/v1/comments/${id}/reports`, { method: "POST", body });
    } catch {
      answer = null;
    }
    send.disabled = false;
    if (answer?.status === 202) {
      this.closeReport();
      opener.replaceWith(h("span", { class: "tb-reported", text: t.reportThanks }));
      this.say(t.reportThanks);
      this.nodes.get(id)?.querySelector(".tb-card")?.focus();
      return;
    }
    const message = !answer
      ? t.networkError
      : answer.status === 429
        ? t.rateLimited(Number.parseInt(answer.retryAfter, 10) || 60)
        : answer.data?.error?.message || t.reportFailed;
    noteError.textContent = message;
    noteError.hidden = false;
    this.say(message);
  });
  this.report = { id, form };
  this.slotFor(id).append(form);
  form.querySelector("input[type=radio]").focus();
}

/** @this {Talkback} */
function closeReport() {
  this.report?.form.remove();
  this.report = null;
}

// @ts-check
// The composer: open, validate and post a new comment or a reply.

/** The client-side checks, mirroring the API's CommentSubmitSchema. */
function validate(values, t) {
  const errors = {};
  for (const field of FIELDS) {
    const value = values[field];
    if ((field === "author_name" || field === "body") && !value) errors[field] = t.required;
    else if (value.length > LIMITS[field]) errors[field] = t.tooLong(LIMITS[field]);
    else if (field === "body" && value.length < BODY_LIMITS.min) errors[field] = t.tooShort(BODY_LIMITS.min);
  }
  if (values.author_email && !errors.author_email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.author_email)) {
    errors.author_email = t.badEmail;
  }
  return errors;
}

function hasText(draft) {
  return Boolean(draft && ((draft.title || "").trim() || (draft.body || "").trim()));
}

/** @this {Talkback} */
function composerValues() {
  const values = {};
  for (const field of FIELDS) values[field] = this.composer.fields[field]?.value.trim() ?? "";
  // Signed in: the name is the session's (the API ignores any other), and no email is asked.
  if (this.reader) values.author_name = this.reader.name;
  return values;
}

/**
 * Open the composer for a new comment (parentId null) or a reply. A different composer with
 * text open asks first; cancel leaves everything as it was.
 * @this {Talkback}
 */
async function openComposer(parentId, { opener = null, parentName = null, draft = null, focus = true } = {}) {
  // The site takes comments only from signed-in readers: the page shows its login.
  if (this.signIn === "required" && !this.reader) this.loginRequired("sign_in_required");
  this.closeReport();
  if (this.composer) {
    if (this.composer.parentId === parentId) {
      this.focusFirstField();
      return;
    }
    if (!(await this.closeComposer({ opener }))) return;
  }
  const form = this.buildComposer(parentId, parentName || draft?.parentName || null, opener);
  const author = store.get("talkback:author") || {};
  const fields = this.composer.fields;
  if (!this.reader) {
    fields.author_name.value = draft?.author_name ?? author.name ?? "";
    fields.author_email.value = draft?.author_email ?? author.email ?? "";
  }
  fields.title.value = draft?.title ?? "";
  fields.body.value = draft?.body ?? "";
  this.composer.syncNotify();
  this.slotFor(parentId).append(form);
  if (focus) this.focusFirstField();
}

/** @this {Talkback} */
function focusFirstField() {
  const { fields } = this.composer;
  (fields.author_name?.value === "" ? fields.author_name : fields.body).focus();
}

/**
 * Close the open composer; with text, only if the reader confirms. Resolves whether it closed.
 * @this {Talkback}
 */
async function closeComposer({ opener = null } = {}) {
  if (!this.composer) return true;
  if (hasText(this.composerValues())) {
    const confirmed = await this.confirm(
      { title: this.t.discardTitle, text: this.t.discardText, yes: this.t.discardConfirm, no: this.t.discardCancel },
      opener,
    );
    if (!confirmed) return false;
  }
  this.discardComposer();
  return true;
}

/** @this {Talkback} */
function discardComposer() {
  if (!this.composer) return;
  this.composer.form.remove();
  this.composer = null;
  store.remove(this.draftKey);
}

/** @this {Talkback} */
function buildComposer(parentId, parentName, opener) {
  const t = this.t;
  const fields = {};
  const errors = {};
  const form = h("form", { class: "tb-composer", novalidate: true, "aria-label": t.composerLabel });
  if (parentId !== null) {
    form.append(h("p", { class: "tb-replying", dir: "auto", text: t.replyingTo(parentName || `#${parentId}`) }));
  }
  const formError = h("p", { class: "tb-form-error", id: this.id("form-error"), hidden: true });
  form.append(formError);
  if (this.reader) {
    form.append(h("p", { class: "tb-signed-in" }, t.commentingAs, " ", h("strong", { dir: "auto", text: this.reader.name }), ...badgeList(this.reader.badges)));
  }
  const spec = {
    author_name: { label: t.name, autocomplete: "name", required: true },
    author_email: { label: t.email, type: "email", autocomplete: "email" },
    title: { label: t.title },
    body: { label: t.body, multiline: true, required: true },
  };
  for (const field of FIELDS) {
    if (this.reader && field.startsWith("author_")) continue; // the session says who
    const { label, type = "text", autocomplete, required, multiline } = spec[field];
    const inputId = this.id(field);
    const errorId = this.id(`${field}-error`);
    const attrs = {
      id: inputId,
      name: field,
      maxlength: LIMITS[field],
      "aria-required": required ? "true" : undefined,
      "aria-describedby": errorId,
      dir: "auto",
      oninput: () => this.saveDraft(),
    };
    fields[field] = multiline
      ? h("textarea", { ...attrs, rows: 5 })
      : h("input", { ...attrs, type, autocomplete: autocomplete || "off" });
    errors[field] = h("p", { class: "tb-error", id: errorId, hidden: true });
    form.append(h("div", { class: "tb-field" }, h("label", { for: inputId, text: label }), fields[field], errors[field]));
  }
  const submit = h("button", { type: "submit", class: "tb-button tb-primary", text: t.post });
  const cancel = h("button", {
    type: "button",
    class: "tb-button",
    text: t.cancel,
    onclick: async (event) => {
      const target = event.currentTarget;
      if (await this.closeComposer({ opener: target })) (opener?.isConnected ? opener : this.newButton).focus();
    },
  });
  // Reply notifications need an address: the session's, or the one typed above.
  let notify = null;
  let syncNotify = () => {};
  if (this.notifications) {
    notify = h("input", { type: "checkbox", id: this.id("notify"), name: "notify_replies" });
    const row = h("div", { class: "tb-notify" }, notify, " ", h("label", { for: notify.id, text: t.notifyReplies }));
    syncNotify = () => (row.hidden = !this.reader && !fields.author_email.value.trim());
    fields.author_email?.addEventListener("input", syncNotify);
    form.append(row);
  }
  form.append(h("div", { class: "tb-form-actions" }, submit, cancel));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    this.submit();
  });
  this.composer = { parentId, parentName, form, fields, errors, formError, submit, notify, syncNotify };
  return form;
}

/** @this {Talkback} */
function showErrors(fieldErrors, message) {
  const { fields, errors, formError } = this.composer;
  for (const field of FIELDS) {
    const text = fieldErrors[field];
    if (!fields[field]) continue;
    errors[field].textContent = text || "";
    errors[field].hidden = !text;
    if (text) fields[field].setAttribute("aria-invalid", "true");
    else fields[field].removeAttribute("aria-invalid");
  }
  formError.textContent = message || "";
  formError.hidden = !message;
  if (message) this.say(message);
  const first = FIELDS.find((field) => fieldErrors[field] && fields[field]);
  if (first) fields[first].focus();
}

/** @this {Talkback} */
async function submit() {
  const composer = this.composer;
  const t = this.t;
  const values = this.composerValues();
  const problems = validate(values, t);
  if (Object.keys(problems).length) {
    this.showErrors(problems, t.fixFields);
    return;
  }
  this.showErrors({}, "");
  const payload = { author_name: values.author_name, body: values.body, commenter_key: commenterKey() };
  if (values.author_email) payload.author_email = values.author_email;
  if (values.title) payload.title = values.title;
  if (composer.notify?.checked && (this.reader || values.author_email)) payload.notify_replies = true;
  if (composer.parentId !== null) payload.parent_id = composer.parentId;
  Object.assign(payload, this.articleInfo());

  composer.submit.disabled = true;
  composer.submit.textContent = t.posting;
  let answer;
  try {
    answer = await api(`${this.base}/comments`, { method: "POST", body: payload, session: this.session });
  } catch {
    answer = null;
  }
  composer.submit.disabled = false;
  composer.submit.textContent = t.post;
  if (this.composer !== composer) return; // closed meanwhile (another tab)

  if (!answer) return this.showErrors({}, t.networkError);
  const { status, data, retryAfter } = answer;
  if (status === 202 && data) return this.posted(data, values, composer.parentId);
  if (status === 429) return this.showErrors({}, t.rateLimited(Number.parseInt(retryAfter, 10) || 60));
  const error = data?.error || {};
  if (status === 401) {
    // Expired session: back to anonymous (the text stays); either way the page signs in.
    if (error.code === "session_expired") this.logout();
    this.loginRequired(error.code);
    return this.showErrors({}, error.code === "session_expired" ? t.sessionExpired : t.signInRequired);
  }
  const fieldErrors = {};
  const other = [];
  for (const [field, messages] of Object.entries(error.fields || {})) {
    const text = [].concat(messages).join(" ");
    if (FIELDS.includes(field)) fieldErrors[field] = text;
    else other.push(text);
  }
  const message = [error.message || (status >= 500 ? t.serverError : t.fixFields), ...other].join(" ");
  this.showErrors(fieldErrors, message);
}

/** @this {Talkback} */
function articleInfo() {
  const canonical = /** @type {HTMLLinkElement | null} */ (document.querySelector('link[rel="canonical"]'))?.href;
  const url = SCRIPT?.dataset.articleUrl || canonical || location.href.split("#")[0];
  const title = (SCRIPT?.dataset.articleTitle || document.title || "").trim().slice(0, 300);
  const info = {};
  if (/^https?:\/\//.test(url) && url.length <= 2000) info.article_url = url;
  if (title) info.article_title = title;
  return info;
}

/** @this {Talkback} */
function posted(answer, values, parentId) {
  if (!this.reader) store.set("talkback:author", { name: values.author_name, email: values.author_email });
  const entry = {
    token: answer.delete_token,
    article: this.options.article,
    status: "pending",
    parent_id: parentId,
    author_name: values.author_name,
    badges: this.reader?.badges || [],
    title: values.title || null,
    body_text: values.body,
    body_html: null,
    created_at: new Date().toISOString(),
  };
  this.saveOwn(answer.id, entry);
  this.discardComposer();
  const li = this.placeOwn(answer.id, entry);
  this.say(this.t.posted);
  li.querySelector(".tb-card").focus();
  this.schedulePoll(POLL_FIRST_MS);
}

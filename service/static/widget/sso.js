// @ts-check
// Sign-in with the publisher's login: the page hands the widget a token it signed
// (data-sso-token, or window.Talkback.login(token)); the widget exchanges it once for a reader
// session, kept in memory and sessionStorage per site, and sends it as Authorization when posting.
// When the site wants a signed-in reader, the host element fires "talkback:login-required"
// (it bubbles to document), and the page shows its own login.

/** @this {Talkback} */
function ssoStart() {
  this.ssoKey = `talkback:sso:${this.options.site}`;
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(this.ssoKey));
  } catch {
    /* no sessionStorage: signed in for this page view only */
  }
  const token = SCRIPT?.dataset.ssoToken;
  if (token && token !== saved?.token) return this.login(token);
  if (saved && Date.parse(saved.expires_at) > Date.now()) this.setReader(saved);
}

/**
 * Exchange a publisher's token for a session; resolves whether the reader is now signed in.
 * @this {Talkback}
 */
async function login(token) {
  let answer = null;
  try {
    answer = await api(`/api/v1/sites/${encodeURIComponent(this.options.site)}/session`, { method: "POST", body: { token } });
  } catch {
    /* network failure: stays signed out */
  }
  if (answer?.status !== 200) {
    console.warn("Talkback: sign-in refused:", answer?.data?.error?.message);
    return false;
  }
  const saved = { ...answer.data, token };
  try {
    sessionStorage.setItem(this.ssoKey, JSON.stringify(saved));
  } catch {
    /* kept in memory only */
  }
  this.setReader(saved);
  return true;
}

/** @this {Talkback} */
function logout() {
  try {
    sessionStorage.removeItem(this.ssoKey);
  } catch {
    /* nothing kept */
  }
  this.setReader(null);
}

/** Switch between signed in (saved session) and anonymous; an open composer is rebuilt. @this {Talkback} */
function setReader(saved) {
  this.session = saved?.session || null;
  this.reader = saved?.reader || null;
  const composer = this.composer;
  if (!composer) return;
  const values = this.composerValues();
  composer.form.remove();
  this.composer = null;
  this.slotFor(composer.parentId).append(this.buildComposer(composer.parentId, composer.parentName, null));
  for (const field of FIELDS) if (this.composer.fields[field]) this.composer.fields[field].value = values[field];
}

/** Tell the page the reader must sign in (reason: the API's code). @this {Talkback} */
function loginRequired(reason) {
  this.host.dispatchEvent(
    new CustomEvent("talkback:login-required", { bubbles: true, composed: true, detail: { site: this.options.site, reason } }),
  );
}

/** The reader's name and badges, as shown on cards and above the composer. */
function badgeList(badges) {
  return (badges || []).map((badge) => h("span", { class: "tb-reader-badge", dir: "auto", text: badge }));
}

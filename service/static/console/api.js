// @ts-check
// The moderation API client: same-origin JSON calls with the session and CSRF token.

/** @typedef {import("./console.js").ModerationConsole} ModerationConsole */

const PAGE_SIZE = 25;

/**
 * Call the moderation API; resolve {status, data, date}; a lost session goes to the login.
 * @param {string} path
 * @param {{ method?: string, body?: object }} [options]
 * @this {ModerationConsole}
 */
export function request(path, options) {
  return this.call(this.api + path, options);
}

/**
 * Call a same-origin JSON endpoint with the session cookie (and the CSRF token to change).
 * @this {ModerationConsole}
 * @param {string} url
 * @param {{ method?: string, body?: object }} [options]
 */
export async function call(url, options = {}) {
  const { method = "GET", body } = options;
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRFToken"] = this.csrf;
  const response = await fetch(url, {
    method,
    headers,
    credentials: "same-origin",
    cache: "no-store",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    const next = location.pathname + location.search;
    location.assign(`${this.root.dataset.login || "/console/login"}?next=${encodeURIComponent(next)}`);
  }
  const data = await response.json().catch(() => null);
  return { status: response.status, data, date: response.headers.get("Date") };
}

/**
 * @this {ModerationConsole}
 * @param {string} [cursor]
 */
export function queuePath(cursor) {
  const query = new URLSearchParams({ sort: this.sort, limit: String(PAGE_SIZE) });
  if (this.site) query.set("site", this.site);
  if (cursor) query.set("cursor", cursor);
  return `/queues/${encodeURIComponent(this.queue)}?${query}`;
}

/** The API's error message from a result, or the fallback. */
export function errorMessage(result, fallback) {
  return result.data?.error?.message || fallback;
}

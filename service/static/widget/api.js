// @ts-check
// The public API client: CORS fetches without credentials to the comment host.

/**
 * Call the public API; resolve {status, data, retryAfter}, reject only on network failure.
 * @param {string} path
 * @param {{ method?: string, body?: object, token?: string, fresh?: boolean, session?: string | null }} [options]
 */
async function api(path, { method = "GET", body, token, fresh = false, session = null } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers["X-Delete-Token"] = token;
  if (session) headers.Authorization = `Bearer ${session}`;
  const response = await fetch(API + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    mode: "cors",
    credentials: "omit",
    // Revalidate threads (cheap 304s by ETag) so a reader never sees a stale page after acting.
    cache: fresh ? "no-cache" : "default",
  });
  let data = null;
  if (response.status !== 204) data = await response.json().catch(() => null);
  return { status: response.status, data, retryAfter: response.headers.get("Retry-After") };
}

// @ts-check
// Browser storage: localStorage that never throws, and this browser's commenter key.

/** localStorage that never throws (private modes, full quota, disabled storage). */
const store = {
  get(key) {
    try {
      return JSON.parse(localStorage.getItem(key));
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch {
      /* not remembered: the widget still works for this page view */
    }
  },
  remove(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      /* nothing to do */
    }
  },
};

/** A random commenter key matching the API's ^[A-Za-z0-9_-]{8,64}$, kept for this browser. */
function commenterKey() {
  let key = store.get("talkback:commenter-key");
  if (typeof key === "string" && /^[A-Za-z0-9_-]{8,64}$/.test(key)) return key;
  if (crypto.randomUUID) key = crypto.randomUUID();
  else key = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  store.set("talkback:commenter-key", key);
  return key;
}

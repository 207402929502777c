// @ts-check
// Widget settings: the script tag, the API origin, field limits and timings shared by every part.

// An async script's document.currentScript is only set while it first runs: capture it now.
const SCRIPT = /** @type {HTMLScriptElement | null} */ (document.currentScript);
const API = SCRIPT ? new URL(SCRIPT.src, location.href).origin : location.origin;
const COLLAPSE_DEPTH = 3; // replies this deep (and theirs) wait behind one "Show more replies"
const POLL_FIRST_MS = 3000;
const POLL_MAX_MS = 30000;
// The live poll (live.js) backs off from data-live seconds (default 15) up to this on a quiet thread.
const LIVE_MAX_MS = 180000;
const LIMITS = { author_name: 60, author_email: 254, title: 120, body: 5000, note: 500 };
const FIELDS = ["author_name", "author_email", "title", "body"];
// The site's own comment length limits, learned from the first page of the thread.
const BODY_LIMITS = { min: 1 };

// @ts-check
// Talkback moderators' console, the queue app: the ModerationConsole class, click routing and the
// article pre-moderation toggle; each other role is a module of its own, imported below.
//
// The page (templates/console/queue.html) is a shell with data attributes that loads this file as
// a native ES module (<script type="module">, no build step). Together the modules load the cards,
// decide them without reloading the page, offer undo for a few seconds, and poll
// GET /api/v1/moderation/events every 3 s so new comments appear and colleagues' decisions vanish.
//
// Rules every console module keeps, so it runs under the console's CSP (script-src 'self', no
// inline):
// - every value from the API goes in with textContent, except the sanitizer's body_html;
// - highlights wrap text nodes of that sanitized HTML in <mark>, never string-replace markup;
// - calls are same-origin fetches with the session cookie and the CSRF token header.
//
// Each card's Ban button opens one shared <dialog> that posts to POST /api/v1/admin/bans with
// the comment's id: the server bans by what the comment carries, so no email or address ever
// reaches this page. The card's ban_targets says which targets the comment has.
//
// Each card's article line has a "Pre-moderate article" toggle (aria-pressed): it PUTs
// /api/v1/moderation/sites/{site}/articles/{article}/premoderation, and every card of that
// article on the page follows the new state.

import { errorMessage, request, call, queuePath } from "./api.js";
import { banField, showBanErrors, openBan, submitBan, markBanned, dropRejectedByBan } from "./bans.js";
import { card, insertCard, renderCard, setCurrent, move, removeCards } from "./cards.js";
import { decide, decideOne, decideMany, leftText } from "./decisions.js";
import { toggleFeature } from "./featured.js";
import { ACTION_LABELS } from "./labels.js";
import { start, schedulePoll, poll, applyEvent, refresh, loadMore, setMore, updateCounts, adjustCounts, updateEmpty } from "./live.js";
import { showAlert, announce, openHelp } from "./messages.js";
import { toggle, selectRange, updateSelection, clearSelection } from "./selection.js";
import { onKey } from "./shortcuts.js";
import { offerUndo, closeUndo, undoLast } from "./undo.js";

export class ModerationConsole {
  // Each role's methods live in its own module as functions of `this`; here they become this
  // class's methods.
  // api.js
  request = request;
  call = call;
  queuePath = queuePath;
  // live.js
  start = start;
  schedulePoll = schedulePoll;
  poll = poll;
  applyEvent = applyEvent;
  refresh = refresh;
  loadMore = loadMore;
  setMore = setMore;
  updateCounts = updateCounts;
  adjustCounts = adjustCounts;
  updateEmpty = updateEmpty;
  // cards.js
  card = card;
  insertCard = insertCard;
  renderCard = renderCard;
  setCurrent = setCurrent;
  move = move;
  removeCards = removeCards;
  // selection.js
  toggle = toggle;
  selectRange = selectRange;
  updateSelection = updateSelection;
  clearSelection = clearSelection;
  // decisions.js
  decide = decide;
  decideOne = decideOne;
  decideMany = decideMany;
  leftText = leftText;
  // undo.js
  offerUndo = offerUndo;
  closeUndo = closeUndo;
  undoLast = undoLast;
  // messages.js
  showAlert = showAlert;
  announce = announce;
  openHelp = openHelp;
  // bans.js
  banField = banField;
  showBanErrors = showBanErrors;
  openBan = openBan;
  submitBan = submitBan;
  markBanned = markBanned;
  dropRejectedByBan = dropRejectedByBan;
  // shortcuts.js
  onKey = onKey;
  toggleFeature = toggleFeature;

  constructor(root) {
    this.root = root;
    this.queue = root.dataset.queue;
    this.site = root.dataset.site || "";
    this.sort = root.dataset.sort || "oldest";
    this.user = root.dataset.user;
    this.actor = `moderator:${this.user}`;
    this.api = root.dataset.api;
    this.adminApi = root.dataset.adminApi || "/api/v1/admin";
    this.consoleRoot = root.dataset.console || "/console";
    this.csrf = /** @type {HTMLMetaElement | null} */ (document.querySelector('meta[name="csrf-token"]'))?.content || "";
    this.labels = ACTION_LABELS[this.queue];
    const find = (selector) => root.querySelector(selector);
    this.list = find("[data-cards]");
    this.empty = find("[data-empty]");
    this.loading = find("[data-loading]");
    this.alert = find("[data-alert]");
    this.announcer = find("[data-announce]");
    this.toolbar = find("[data-toolbar]");
    this.selectedCount = find("[data-selected-count]");
    this.moreButton = find('[data-action="more"]');
    this.toast = find("[data-toast]");
    this.toastText = find("[data-toast-text]");
    this.toastSeconds = find("[data-toast-seconds]");
    this.help = find("[data-help]");
    this.banDialog = find("[data-ban-dialog]");
    this.banForm = find("[data-ban-form]");
    this.banCard = null; // the card whose author the dialog bans
    this.banReturn = null;

    this.cards = []; // [{data, node}] in display order
    this.currentId = null; // the focused card's comment id
    this.selected = new Set();
    this.anchorId = null; // the last checkbox clicked, for shift-click ranges
    this.busy = false; // one decision at a time: a second key press must not decide twice
    this.undo = null; // {action, items: [{card, index}], deadline, timer}
    this.lastEvent = null;
    this.polls = 0;
    this.nextCursor = null;
    this.counts = null; // the queue counts, once loaded
    this.pollTimer = undefined;
    this.banBusy = false; // a ban is being sent
    this.premoderateBusy = false; // a pre-moderation switch is being sent
    this.featureBusy = false; // an editors' pick is being sent

    document.addEventListener("keydown", (event) => this.onKey(event));
    root.addEventListener("click", (event) => this.onClick(event));
    this.list.addEventListener("focusin", (event) => {
      const node = event.target.closest("li.card");
      if (node) this.setCurrent(Number(node.dataset.id), { focus: false });
    });
    this.helpReturn = null;
    // Only when nothing else took the focus meanwhile: a late "close" must not pull it back
    // to the card the help opened from after j/k moved on.
    this.help.addEventListener("close", () => {
      const active = document.activeElement;
      if (!active || active === document.body) this.helpReturn?.focus();
    });
    this.banForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submitBan();
    });
    this.banDialog.addEventListener("close", () => {
      this.banCard = null;
      // The browser puts focus back on the Ban button; if that button is gone (its card left the
      // queue), on the card that took its place. The close event comes a moment later, so focus
      // the user has moved since (j, k) is left alone.
      const active = document.activeElement;
      if (active && active !== document.body) return;
      if (this.banReturn?.isConnected) this.banReturn.focus();
      else if (this.currentId !== null) this.setCurrent(this.currentId);
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.poll();
    });
    this.start();
  }

  // ------------------------------------------------------------ article pre-moderation

  /** Switch pre-moderation of a card's article; every card of that article follows. */
  async togglePremoderation(card, button) {
    if (!card || this.premoderateBusy) return;
    const article = card.data.article || {};
    const wanted = button.getAttribute("aria-pressed") !== "true";
    const path = `/sites/${encodeURIComponent(card.data.site)}/articles/${encodeURIComponent(article.id)}/premoderation`;
    this.premoderateBusy = true;
    let result;
    try {
      result = await this.request(path, { method: "PUT", body: { premoderated: wanted } });
    } catch {
      result = null;
    } finally {
      this.premoderateBusy = false;
    }
    if (!result || result.status !== 200) {
      this.showAlert(
        result
          ? errorMessage(result, "The article's pre-moderation could not be changed. Try again.")
          : "The server cannot be reached; nothing changed. Try again.",
      );
      return;
    }
    this.showAlert("");
    const state = Boolean(result.data.premoderated);
    for (const other of this.cards) {
      if (other.data.site !== card.data.site || other.data.article?.id !== article.id) continue;
      other.data.article.premoderated = state;
      other.node.querySelector("[data-premoderate]")?.setAttribute("aria-pressed", String(state));
    }
    const title = article.title || article.id;
    this.announce(
      state
        ? `“${title}” is pre-moderated: every new comment on it waits for a moderator.`
        : `“${title}” is no longer pre-moderated.`,
    );
  }

  // ------------------------------------------------------------ input (keys: shortcuts.js)

  onClick(event) {
    const target = event.target;
    const checkbox = target.closest("[data-select]");
    if (checkbox) {
      const id = Number(checkbox.dataset.select);
      if (event.shiftKey && this.anchorId !== null) this.selectRange(this.anchorId, id, checkbox.checked);
      else this.toggle(id, checkbox.checked);
      this.anchorId = id;
      this.updateSelection();
      return;
    }
    const ban = target.closest("[data-ban]");
    if (ban) {
      this.openBan(this.card(Number(ban.dataset.ban)), ban);
      return;
    }
    const premoderate = target.closest("[data-premoderate]");
    if (premoderate) {
      this.togglePremoderation(this.card(Number(premoderate.dataset.premoderate)), premoderate);
      return;
    }
    const feature = target.closest("[data-feature]");
    if (feature) {
      this.toggleFeature(this.card(Number(feature.dataset.feature)));
      return;
    }
    const decide = target.closest("[data-decide]");
    if (decide) {
      const card = this.card(Number(decide.closest("li.card").dataset.id));
      const kind = decide.dataset.decide;
      if (kind === "spam") this.decide("reject", "spam", card);
      else this.decide(kind, undefined, card);
      return;
    }
    const action = target.closest("[data-action]")?.dataset.action;
    if (action === "help") this.openHelp();
    else if (action === "bulk-approve") this.decide("approve");
    else if (action === "bulk-reject") this.decide("reject");
    else if (action === "clear-selection") this.clearSelection();
    else if (action === "undo") this.undoLast();
    else if (action === "more") this.loadMore();
    else if (action === "ban-cancel") this.banDialog.close();
    else {
      const node = target.closest("li.card");
      if (node && !target.closest("a, button")) this.setCurrent(Number(node.dataset.id));
    }
  }
}

const root = document.getElementById("queue-app");
if (root) new ModerationConsole(root);

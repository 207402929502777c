// @ts-check
// Likes (and dislikes where the site takes them). The cached thread page is shared by every
// reader, so the reader's own votes (and the counts the API answered) live in localStorage.

/** The reader's votes on this site: {comment id: {v: "like"|"dislike", l, d, at}}. */
/** @this {Talkback} */
function ownVotes() {
  return store.get(this.votesKey) || {};
}

/** @this {Talkback} */
function saveVote(id, entry) {
  const votes = this.ownVotes();
  if (entry) votes[id] = { ...entry, at: Date.now() };
  else delete votes[id];
  // Keep the newest 500: enough for any reader, bounded for the quota.
  const ids = Object.keys(votes).sort((a, b) => votes[b].at - votes[a].at);
  for (const old of ids.slice(500)) delete votes[old];
  store.set(this.votesKey, votes);
}

/** The like (and dislike) buttons of a published comment. @this {Talkback} */
function voteButtons(comment) {
  const t = this.t;
  const kinds = this.dislikes ? ["like", "dislike"] : ["like"];
  const own = this.ownVotes()[comment.id];
  // The page may be up to a few seconds older than the reader's last vote: trust the API's
  // answer to it for a minute.
  const fresh = own && Date.now() - own.at < 60000;
  const counts = { like: fresh ? own.l : comment.likes || 0, dislike: fresh ? own.d : comment.dislikes || 0 };
  let current = own?.v || null;
  const buttons = {};
  const show = () => {
    for (const kind of kinds) {
      const button = buttons[kind];
      button.setAttribute("aria-pressed", String(current === kind));
      button.lastChild.textContent = String(counts[kind]);
    }
  };
  // One request at a time per comment, in click order: a quick like-then-dislike must not
  // reach the server the other way round.
  let sending = Promise.resolve();
  let clicks = 0;
  const press = (kind) => {
    const click = ++clicks;
    const before = { current, ...counts };
    const next = current === kind ? null : kind;
    if (current) counts[current] -= 1;
    if (next) counts[next] += 1;
    current = next;
    show();
    const body = { commenter_key: commenterKey() };
    if (next) body.value = next;
    sending = sending.then(async () => {
      let answer;
      try {
        answer = await api(`/api/v1/comments/${comment.id}/vote`, { method: next ? "PUT" : "DELETE", body, session: this.session });
      } catch {
        answer = null;
      }
      // A later click is on its way: its answer (or failure) decides what is shown.
      if (click !== clicks) return;
      if (answer?.status === 200) {
        ({ likes: counts.like, dislikes: counts.dislike, vote: current } = answer.data);
        this.saveVote(comment.id, { v: current, l: counts.like, d: counts.dislike });
      } else {
        ({ current } = before);
        counts.like = before.like;
        counts.dislike = before.dislike;
        this.say(answer?.status === 429 ? t.voteTooFast : answer?.data?.error?.message || t.voteFailed);
      }
      show();
    });
  };
  for (const kind of kinds) {
    buttons[kind] = h(
      "button",
      { type: "button", class: `tb-link tb-vote tb-${kind}`, onclick: () => press(kind) },
      // The name is the visible text, count included: "Like 3".
      document.createTextNode(`${t[kind]} `),
      h("span", { class: "tb-count" }),
    );
  }
  show();
  return h("span", { class: "tb-votes" }, ...kinds.map((kind) => buttons[kind]));
}

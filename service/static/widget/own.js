// @ts-check
// The reader's own comments: remembered with their delete tokens, shown, and deleted.

/** @this {Talkback} */
function ownEntries() {
  const own = store.get(this.ownKey);
  return own && typeof own === "object" ? own : {};
}

/** @this {Talkback} */
function saveOwn(id, entry) {
  const own = this.ownEntries();
  if (entry) own[id] = entry;
  else delete own[id];
  store.set(this.ownKey, own);
}

/**
 * Show an own comment that only its author can see (pending) where it belongs.
 * @this {Talkback}
 */
function placeOwn(id, entry, pending = true) {
  const comment = { id, ...entry };
  const li = h("li", { class: "tb-comment", id: `tb-c${id}`, "data-id": id });
  li.append(this.renderCard(comment, { pending }));
  this.nodes.set(id, li);
  const parent = entry.parent_id !== null ? this.nodes.get(entry.parent_id) : null;
  if (parent) {
    let list = parent.querySelector(":scope > .tb-replies");
    if (!list) {
      list = h("ol", { class: "tb-replies" });
      parent.append(list);
    }
    list.hidden = false;
    parent.querySelector(":scope > .tb-show-replies")?.remove();
    list.append(li);
  } else {
    this.thread.prepend(li);
  }
  this.empty.hidden = true;
  return li;
}

/**
 * Show the author's published comments that the thread left out. On a later page they are
 * simply shown early; when the whole thread is loaded, they are hidden by a shadow ban, and
 * the author must see them (and the count) as if they were not.
 * @this {Talkback}
 */
async function showOwnPublished() {
  const own = this.ownEntries();
  const missing = Object.keys(own).filter(
    (id) => own[id].article === this.options.article && own[id].status === "approved" && !this.nodes.has(Number(id)),
  );
  for (const id of missing) {
    let answer;
    try {
      answer = await api(`/api/v1/comments/${id}`, { token: own[id].token });
    } catch {
      continue;
    }
    const { status, data } = answer;
    if (status === 200 && data.status === "approved") {
      if (this.nodes.has(Number(id))) continue; // arrived with a page meanwhile
      this.placeOwn(Number(id), { ...own[id], ...data, parent_id: data.parent_id ?? null }, false);
      if (!this.nextCursor) this.setCount(this.count + 1);
    } else if (status === 403 || status === 404 || (status === 200 && data.status !== "approved")) {
      this.saveOwn(id, null); // deleted, removed by a moderator, or erased: nothing to show
    }
  }
}

/** @this {Talkback} */
async function deleteOwn(id, opener) {
  const t = this.t;
  const entry = this.ownEntries()[id];
  if (!entry) return;
  const confirmed = await this.confirm(
    { title: t.deleteTitle, text: t.deleteText, yes: t.deleteConfirm, no: t.cancel },
    opener,
  );
  if (!confirmed) return;
  let status;
  try {
    ({ status } = await api(`/api/v1/comments/${id}`, { method: "DELETE", token: entry.token }));
  } catch {
    status = 0;
  }
  if (status !== 204 && status !== 404 && status !== 403) {
    this.say(t.deleteFailed);
    opener.focus();
    return;
  }
  this.saveOwn(id, null);
  if (entry.status === "approved") this.setCount(this.count - 1);
  const li = this.nodes.get(id);
  if (li?.querySelector(":scope > .tb-replies > li")) {
    li.classList.add("tb-deleted");
    li.querySelector(":scope > .tb-card").replaceWith(h("p", { class: "tb-tombstone", text: t.deleted }));
  } else {
    li?.remove();
    this.nodes.delete(id);
  }
  this.empty.hidden = this.thread.children.length > 0;
  this.say(t.deleteDone);
  this.newButton.focus();
}

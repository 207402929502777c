// @ts-check
// Drafts: keep the composer's text across reloads and follow it across tabs.

/** @this {Talkback} */
function readDraft() {
  const draft = store.get(this.draftKey);
  return draft && typeof draft === "object" ? draft : null;
}

/** @this {Talkback} */
function saveDraft() {
  if (!this.composer) return;
  const draft = { parentId: this.composer.parentId, parentName: this.composer.parentName };
  for (const field of FIELDS) draft[field] = this.composer.fields[field]?.value ?? "";
  // An empty draft is no draft: nothing to restore, nothing to ask about.
  if (hasText(draft)) store.set(this.draftKey, draft);
  else store.remove(this.draftKey);
}

/** @this {Talkback} */
function restoreDraft() {
  const draft = this.readDraft();
  if (!hasText(draft) || this.composer) return;
  const parentId = Number.isInteger(draft.parentId) ? draft.parentId : null;
  this.openComposer(parentId, { draft, focus: false });
}

/** @this {Talkback} */
function onStorage(event) {
  if (event.key === this.draftKey) {
    const draft = this.readDraft();
    if (!hasText(draft)) {
      // Posted or discarded in another tab: the draft is gone here too.
      if (this.composer && hasText(this.composerValues())) this.discardComposer();
      return;
    }
    const parentId = Number.isInteger(draft.parentId) ? draft.parentId : null;
    if (this.composer && this.composer.parentId === parentId) {
      for (const field of FIELDS) {
        const input = this.composer.fields[field];
        if (input && input.value !== (draft[field] ?? "")) input.value = draft[field] ?? "";
      }
    } else {
      // The one draft moved to another comment in the other tab: follow it without asking.
      if (this.composer) this.composer.form.remove();
      this.composer = null;
      this.openComposer(parentId, { draft, focus: false });
    }
  } else if (event.key === this.ownKey) {
    this.showOwnPending();
    this.schedulePoll(POLL_FIRST_MS);
  }
}

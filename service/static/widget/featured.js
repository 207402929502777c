// @ts-check
// Editors' picks: the comments moderators featured, listed above the thread (the first page of
// a thread says which); each is also marked where it stands in the thread.

/** @this {Talkback} */
function renderPicks(picks) {
  if (!picks) return; // later pages leave the picks as they are
  if (!this.picks) {
    this.picks = h("section", { class: "tb-picks", "aria-labelledby": "tb-picks-heading" });
    this.status.before(this.picks);
  }
  this.picks.hidden = !picks.length;
  this.picks.replaceChildren(
    h("h3", { id: "tb-picks-heading", class: "tb-picks-heading", text: this.t.picks }),
    h(
      "ol",
      { class: "tb-thread" },
      ...picks.map((comment) => {
        const body = h("div", { class: "tb-body", dir: "auto" });
        body.innerHTML = comment.body_html; // sanitized by the API
        return h(
          "li",
          { class: "tb-comment" },
          h(
            "article",
            { class: "tb-card" },
            h(
              "p",
              { class: "tb-meta" },
              h("span", { class: "tb-author", dir: "auto", text: comment.author_name }),
              this.timeElement(comment.created_at),
            ),
            comment.title ? h("h4", { class: "tb-title", dir: "auto", text: comment.title }) : null,
            body,
          ),
        );
      }),
    ),
  );
}

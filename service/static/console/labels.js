// @ts-check
// The words the queue shows: action labels per queue, decisions done, ban targets.

export const ACTION_LABELS = {
  held: { approve: "Approve", reject: "Reject" },
  pending: { approve: "Approve", reject: "Reject" },
  reported: { approve: "Keep", reject: "Remove" },
  approved: { approve: null, reject: "Remove" },
  rejected: { approve: "Approve", reject: null },
};
export const DONE_WORDS = { approve: "Approved", reject: "Rejected" };
export const TARGET_WORDS = {
  commenter_key: "the commenter",
  email: "their email address",
  ip: "their IP address",
  network: "their network",
  email_domain: "their email domain",
  sso_id: "the signed-in reader",
};

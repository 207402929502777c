"""Request plumbing: authentication, CORS and rate limits."""

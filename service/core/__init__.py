"""The service layer: comments, moderation, bans, sites, accounts; no requests, no templates."""

"""The moderators' and operators' web console: server-rendered pages."""

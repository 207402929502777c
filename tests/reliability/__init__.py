"""The fault suite (`make faults`): Talkback's whole stack on its own PostgreSQL and Redis, under
load, while its processes and servers are killed; see docs/reliability.md."""

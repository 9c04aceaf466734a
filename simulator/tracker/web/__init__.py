"""The tracker's web UI: server-rendered Jinja2 pages, small vanilla JS, live via SSE."""

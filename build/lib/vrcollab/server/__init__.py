"""Thin I/O shells around the sync core: FastAPI app, websocket endpoint, auth, room hub."""

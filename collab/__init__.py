"""Real-time collaborative documents for Django, synced with the y-websocket protocol."""

__version__ = "0.1.0.dev0"

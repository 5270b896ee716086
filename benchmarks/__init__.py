"""Load and latency benchmarks of collab against the reference y-websocket server."""

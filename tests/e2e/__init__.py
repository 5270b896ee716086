"""End-to-end tests: a real daphne server driven by stock Node Yjs clients."""

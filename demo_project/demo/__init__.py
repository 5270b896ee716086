"""The demo app: document list, document pages and the ``setup_demo`` command."""

"""``collab_compact``, ``collab_export``, ``collab_import`` and ``collab_stats``."""

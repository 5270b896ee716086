"""collab's management commands and what they share."""

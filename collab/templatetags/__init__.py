"""Template tags of collab: ``{% load collab %}``."""

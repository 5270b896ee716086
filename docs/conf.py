"""Sphinx configuration of collab's documentation (Markdown pages, furo theme)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import collab

project = "collab"
author = "collab contributors"
copyright = "collab contributors"
release = collab.__version__
version = release

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_static"]

myst_enable_extensions = ["deflist"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"collab {release}"

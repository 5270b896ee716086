"""The layer table of docs/design.md holds every module, and the imports follow it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "design.md"


def layers() -> dict[str, int]:
    """Each module's layer, numbered from the top of the table."""
    rows = re.findall(r"^\| ([A-Z][\w ]+) \| (`.*?`) \|", PAGE.read_text(), re.M)
    return {
        module: depth
        for depth, (_, cell) in enumerate(rows)
        for module in re.findall(r"`(\w+)`", cell)
    }


def imports_of(path: Path) -> set[str]:
    """The collab modules ``path`` imports when it runs (type-checking imports aside)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            if node.module == "collab":
                found |= {alias.name for alias in node.names}
            elif node.module.startswith("collab."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("collab.")}
    return found


def test_every_module_is_in_one_layer() -> None:
    modules = {path.stem for path in (ROOT / "collab").glob("*.py")} - {"__init__"}
    assert set(layers()) == modules


def test_no_module_imports_a_layer_above_its_own() -> None:
    depth = layers()
    upward = [
        f"{path.stem} imports {imported}"
        for path in (ROOT / "collab").glob("*.py")
        if path.stem in depth
        for imported in imports_of(path)
        if imported in depth and depth[imported] < depth[path.stem]
    ]
    assert upward == []

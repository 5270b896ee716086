"""The public API page lists exactly what the public modules declare in ``__all__``."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import collab

PAGE = Path(__file__).resolve().parent.parent / "docs" / "public-api.md"


def listed() -> dict[str, set[str]]:
    """The names the page lists, by module."""
    modules: dict[str, set[str]] = {}
    for section in re.split(r"^## ", PAGE.read_text(), flags=re.M)[1:]:
        module = re.match(r"`([\w.]+)`", section)
        assert module is not None, section[:80]
        modules[module.group(1)] = set(re.findall(r"^- `(\w+)`:", section, re.M))
    return modules


def declared() -> dict[str, set[str]]:
    """The ``__all__`` of every collab module that has one."""
    modules = {}
    for info in pkgutil.iter_modules(collab.__path__, "collab."):
        module = importlib.import_module(info.name)
        if hasattr(module, "__all__"):
            modules[info.name] = set(module.__all__)
    return modules


def test_the_page_lists_every_public_name_and_nothing_else() -> None:
    assert listed() == declared()


def test_every_public_name_exists() -> None:
    for module_name, names in declared().items():
        module = importlib.import_module(module_name)
        assert [name for name in names if not hasattr(module, name)] == [], module_name

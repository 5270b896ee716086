"""The example of docs/testing-your-project.md, run as it stands on that page."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "testing-your-project.md"

_EXAMPLE = re.search(r"## Example\n.*?```python\n(.*?)```", PAGE.read_text(), re.DOTALL)
assert _EXAMPLE is not None, f"no python example in {PAGE}"
exec(compile(_EXAMPLE.group(1), str(PAGE), "exec"))  # defines its tests and pytestmark here

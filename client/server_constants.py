"""Writes ``src/server-constants.js``: what the browser client must agree on with the server.

The close codes after which a client must not reconnect come from
:class:`collab.close_codes.CloseCode` (44xx: permanent, see its module docstring), and
the URL schemes a link or image may keep from :data:`collab.html.SAFE_SCHEMES`, with the
characters browsers skip when they read a scheme. ``tests/test_client_constants.py``
fails when the committed file differs from what this renders.

Run from the repository root: ``python client/server_constants.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from collab import html
from collab.close_codes import CloseCode

TARGET = Path(__file__).resolve().parent / "src" / "server-constants.js"

PERMANENT_CODES = range(4400, 4500)
"""Close codes that mean "do not come back" (mirroring HTTP 4xx)."""

TEMPLATE = """\
// Generated from collab/close_codes.py and collab/html.py by
// `python client/server_constants.py`; do not edit.

/** Close codes after which reconnecting cannot help, by code: the `CloseCode` name. */
export const PERMANENT_CLOSE_CODES = Object.freeze({permanent})

/** URL schemes a link or image may keep (`''`: a relative URL); anything else is dropped. */
export const SAFE_URL_SCHEMES = Object.freeze({schemes})

/** Characters browsers skip when they read a URL's scheme. */
export const IGNORED_IN_SCHEME = /{ignored}/g
"""


def render() -> str:
    """The content ``src/server-constants.js`` must have."""
    permanent = {str(code.value): code.name for code in CloseCode if code in PERMANENT_CODES}
    return TEMPLATE.format(
        permanent=json.dumps(permanent, indent=2).replace('"', "'"),
        schemes=json.dumps(sorted(html.SAFE_SCHEMES)).replace('"', "'"),
        ignored=html._IGNORED_IN_SCHEME.pattern,
    )


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")

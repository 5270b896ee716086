"""What a document key may look like: it appears in websocket and page URLs."""

from __future__ import annotations

from django.core.validators import RegexValidator

KEY_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}"
"""Letters, digits, ``_``, ``.`` and ``-``; up to 200 characters; no leading dot or dash."""

validate_key = RegexValidator(
    regex=rf"\A{KEY_PATTERN}\Z",
    message="Use 1-200 letters, digits, '_', '.' or '-', starting with a letter, digit or '_'.",
    code="invalid_key",
)

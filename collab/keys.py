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


def split_field_key(key: str) -> tuple[str, str, str, str] | None:
    """Split a key of the form ``<app_label>.<model_name>.<pk>.<field_name>``.

    The primary key may itself contain dots; app labels, model names and field names
    cannot.

    Returns:
        ``(app_label, model_name, pk, field_name)``, or ``None`` if ``key`` has fewer
        than four parts.
    """
    head = key.split(".", 2)
    if len(head) < 3 or "." not in head[2]:
        return None
    pk, field_name = head[2].rsplit(".", 1)
    if not (head[0] and head[1] and pk and field_name):
        return None
    return head[0], head[1], pk, field_name

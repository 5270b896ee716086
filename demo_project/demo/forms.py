"""Forms of the demo pages."""

from __future__ import annotations

from typing import Any

from django import forms

from collab.models import Document


class DocumentForm(forms.ModelForm):
    """Create a document; the model validates the key's format and uniqueness."""

    class Meta:
        model = Document
        fields = ("title", "key")
        help_texts = {
            "key": "Appears in the page and websocket URLs: letters, digits, "
            "'_', '.' and '-', starting with a letter, digit or '_'.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["title"].required = True

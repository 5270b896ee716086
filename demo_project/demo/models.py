"""An ordinary model whose text field is edited collaboratively in the admin."""

from __future__ import annotations

from django.db import models


class Article(models.Model):
    """An article; ``body`` is a plain ``TextField`` holding HTML, queryable like any column."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.title

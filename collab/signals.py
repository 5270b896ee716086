"""Signals about documents, for search indexing, notifications, webhooks and the like.

All are sent with ``sender=Document``, from a thread where the ORM may be used, with
these arguments:

* ``document_created``: ``document``; for every new document, whatever saved it.
* ``document_changed``: ``document_id``, ``key`` and ``user_ids`` (who changed it; ``None``
  stands for anonymous users and server-side edits without a user). Sent at most once
  per ``COLLAB["CHANGE_SIGNAL_DELAY"]`` seconds per document and process.
* ``document_deleted``: ``document``; sent once the deletion committed, after the live
  sessions in this process were closed with 4410.
* ``stateless_received``: ``key``, ``user_id`` and ``payload`` (a string): a Hocuspocus
  client sent a stateless message about the document (``provider.sendStateless``). Answer
  with :func:`collab.hocuspocus.send_stateless`.
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["document_changed", "document_created", "document_deleted", "stateless_received"]

document_created = Signal()
document_changed = Signal()
document_deleted = Signal()
stateless_received = Signal()

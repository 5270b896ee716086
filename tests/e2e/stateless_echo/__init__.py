"""A test app whose server answers every stateless message of a Hocuspocus client.

It does what the docs (docs/hocuspocus.md) show: a ``stateless_received`` receiver
answers with ``send_stateless`` through ``async_to_sync``.
"""

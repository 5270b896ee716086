"""Admin and server-side changes reach stock Yjs clients connected to another process.

The admin views and ``collab.documents`` run here, in the test process; the clients
are connected to a daphne subprocess. Changes travel through the channel layer, so
this process uses the server's Redis (channels-redis) as its layer too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from channels.layers import channel_layers
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse
from pycrdt import Text

from collab import documents, versions
from collab.close_codes import CloseCode
from collab.models import DeletedKey, Document, DocumentUpdate
from tests.e2e.node import Clients, YClient
from tests.stored import wait_until_stored

pytestmark = pytest.mark.e2e

KEY = "admin-live"


@pytest.fixture
def shared_layer(redis_url: str) -> Iterator[None]:
    """This process's channel layer is the server's Redis, as a second server's would be."""
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url]},
        }
    }
    channel_layers.backends.clear()
    with override_settings(CHANNEL_LAYERS=layers):
        yield
    channel_layers.backends.clear()


@pytest.fixture
def admin_browser(transactional_db: None) -> Client:
    browser = Client()
    browser.force_login(User.objects.create_superuser("root"))
    return browser


def wait_stored(client: YClient) -> str:
    """Wait until the server stored what ``client`` shows; return that text.

    Changes made here start from the stored state, as they would in any process that
    does not have the document open.
    """
    text = client.text
    wait_until_stored(KEY, text, 2.0)
    return text


def admin_url(view: str, *args: object) -> str:
    return reverse(f"admin:collab_document_{view}", args=args)


@pytest.fixture
def client(clients: Clients, editor: User, shared_layer: None) -> YClient:
    """A stock client connected to the server, which stored the client's first draft."""
    client = clients.open(KEY, editor)
    client.insert(0, "first draft")
    wait_stored(client)
    return client


def test_admin_restore_and_server_side_edit_reach_a_connected_client(
    client: YClient, admin_browser: Client
) -> None:
    document = Document.objects.get(key=KEY)
    draft = versions.create_version(document, "draft")
    client.insert(len("first draft"), ", then changed")
    wait_stored(client)

    response = admin_browser.post(admin_url("restore", document.pk, draft.pk))

    assert response.status_code == 302
    client.wait_text("first draft")

    wait_stored(client)
    with documents.edit(KEY) as doc:
        doc.get("content", type=Text).insert(0, "Edited on the server: ")

    client.wait_text("Edited on the server: first draft")


def test_admin_delete_closes_a_connected_client(client: YClient, admin_browser: Client) -> None:
    document = Document.objects.get(key=KEY)

    response = admin_browser.post(admin_url("delete", document.pk), {"post": "yes"})

    assert response.status_code == 302
    client.wait(
        lambda snapshot: CloseCode.DOCUMENT_DELETED in snapshot["closeCodes"], "close with 4410"
    )


def test_a_document_deleted_in_the_admin_stays_deleted_for_a_client_that_retries(
    clients: Clients, editor: User, shared_layer: None, admin_browser: Client
) -> None:
    """y-websocket 2.x reconnects after any close code and would upload its whole state."""
    client = clients.open(KEY, editor, library="y-websocket-2")
    client.insert(0, "a draft the client keeps")
    wait_stored(client)
    document = Document.objects.get(key=KEY)

    response = admin_browser.post(admin_url("delete", document.pk), {"post": "yes"})

    assert response.status_code == 302
    retries = 4
    client.wait(
        lambda snapshot: snapshot["closeCodes"].count(CloseCode.DOCUMENT_DELETED) > retries,
        f"{retries} retries refused with 4410",
    )
    client.close()
    assert client.text == "a draft the client keeps"
    assert not Document.objects.filter(key=KEY).exists()
    assert not DocumentUpdate.objects.filter(document__key=KEY).exists()
    assert DeletedKey.objects.filter(key=KEY).exists()

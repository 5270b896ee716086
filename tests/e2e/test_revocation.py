"""Access changes reach open connections of stock clients in every process within a second.

A stock y-websocket client edits through uvicorn while its user's access changes the
way it changes in a project: a logout through the other server process (daphne), or
the ORM in a third process (this one, as a shell or a management command would),
which tells the servers through Redis. Edits made after the change are not stored.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.sessions.models import Session
from django.test import override_settings

from collab import access
from collab.close_codes import CloseCode
from tests.e2e.node import YClient, session_cookie
from tests.e2e.server import ServerProcess
from tests.e2e.test_scale_out import Cluster, cluster
from tests.stored import wait_until_stored

pytestmark = pytest.mark.e2e

__all__ = ["cluster"]

REVOKED_WITHIN = 1.0
"""Seconds within which an open connection must follow the change."""

SLACK = 1.0
"""Seconds of a loaded CI machine on top (polling the Node driver, starting threads)."""

READ_ONLY = "read-only: your changes are not saved or shared"


@pytest.fixture
def layer_to_servers(redis_url: str) -> Iterator[None]:
    """This process's channel layer reaches the servers, as a shell's would."""
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url]},
        }
    }
    with override_settings(CHANNEL_LAYERS=layers):
        yield


def collab_permission(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="collab", codename=codename)


def log_out(server: ServerProcess, cookie: str) -> None:
    """Log out through ``server``'s logout view, as a browser would (with its CSRF token)."""
    headers = {"Cookie": cookie, "Origin": server.origin}
    with urllib.request.urlopen(
        urllib.request.Request(f"{server.origin}/admin/login/", headers=headers)
    ) as page:
        token = SimpleCookie(page.headers["Set-Cookie"])["csrftoken"].value
    headers = {**headers, "Cookie": f"{cookie}; csrftoken={token}", "X-CSRFToken": token}
    request = urllib.request.Request(f"{server.origin}/logout/", data=b"", headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(NoRedirect).open(request)
    redirect.value.close()  # it holds the response and its socket
    assert redirect.value.code == 302, redirect.value
    assert redirect.value.headers["Clear-Site-Data"] == '"storage"'


def closed_within(client: YClient, code: CloseCode, since: float) -> float:
    """Wait until ``client`` was closed with ``code``; return the seconds since ``since``."""
    client.wait(
        lambda seen: int(code) in seen["closeCodes"], f"close {code}", REVOKED_WITHIN + SLACK
    )
    return time.monotonic() - since


def told_read_only(seen: dict[str, Any]) -> bool:
    """Whether the client was told it may only read (its provider prefixes the reason)."""
    return any(reason.endswith(READ_ONLY) for reason in seen["denials"])


def edits_after(client: YClient, key: str, before: str) -> None:
    """Edits ``client`` makes now are not stored: the document stays ``before``."""
    client.insert(0, "late ")
    time.sleep(0.5)
    wait_until_stored(key, before, 2)


@pytest.mark.parametrize(
    "how", ["logout", "session deleted", "password changed", "deactivated", "deleted"]
)
def test_a_session_that_ends_closes_its_connections_with_4401(
    cluster: Cluster, editor: User, layer_to_servers: None, how: str
) -> None:
    cookie = session_cookie(editor)
    client = cluster.on_uvicorn.open("ended", editor, library="y-websocket-2", cookie=cookie)
    client.insert(0, "before")
    wait_until_stored("ended", "before", 5)

    changes: dict[str, Callable[[], object]] = {
        "logout": lambda: log_out(cluster.daphne, cookie),
        "session deleted": Session.objects.filter(session_key=cookie.split("=", 1)[1]).delete,
        "password changed": lambda: (editor.set_password("new"), editor.save()),
        "deactivated": lambda: (setattr(editor, "is_active", False), editor.save()),
        "deleted": editor.delete,
    }
    start = time.monotonic()
    changes[how]()
    elapsed = closed_within(client, CloseCode.NOT_AUTHENTICATED, start)
    print(f"{how}: closed after {elapsed:.3f} s")
    edits_after(client, "ended", "before")


def test_losing_the_edit_permission_downgrades_connections_in_both_processes(
    cluster: Cluster, editor: User, layer_to_servers: None
) -> None:
    on_uvicorn = cluster.on_uvicorn.open("downgraded", editor)
    on_daphne = cluster.on_daphne.open("downgraded", editor, library="y-websocket-2")
    on_uvicorn.insert(0, "before")
    on_daphne.wait_text("before")
    wait_until_stored("downgraded", "before", 5)

    start = time.monotonic()
    editor.user_permissions.remove(collab_permission("change_document"))
    for client in (on_uvicorn, on_daphne):
        client.wait(told_read_only, "read-only", REVOKED_WITHIN + SLACK)
    print(f"downgraded after {time.monotonic() - start:.3f} s")

    edits_after(on_daphne, "downgraded", "before")
    assert on_uvicorn.inspect()["closeCodes"] == []  # still connected, reading
    on_uvicorn.insert(0, "mine ")
    time.sleep(0.5)
    wait_until_stored("downgraded", "before", 2)


def test_losing_every_permission_closes_with_4403(
    cluster: Cluster, editor: User, layer_to_servers: None
) -> None:
    client = cluster.on_daphne.open("forbidden", editor)
    client.insert(0, "before")
    wait_until_stored("forbidden", "before", 5)

    start = time.monotonic()
    editor.user_permissions.clear()
    print(f"closed after {closed_within(client, CloseCode.FORBIDDEN, start):.3f} s")
    edits_after(client, "forbidden", "before")


def test_a_project_recheck_follows_a_change_collab_cannot_see(
    cluster: Cluster, editor: User, layer_to_servers: None
) -> None:
    client = cluster.on_uvicorn.open("own-policy", editor)
    client.insert(0, "before")
    wait_until_stored("own-policy", "before", 5)
    # A bulk change sends no m2m_changed signal: only the project knows.
    User.user_permissions.through.objects.filter(user=editor).delete()
    time.sleep(0.5)
    assert client.inspect()["closeCodes"] == []

    start = time.monotonic()
    access.recheck(user=editor)
    print(f"closed after {closed_within(client, CloseCode.FORBIDDEN, start):.3f} s")

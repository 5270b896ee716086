"""The database fails for 10 s in the middle of an edit storm: no edit is lost.

Stock Node Yjs clients type markers throughout, against daphne and uvicorn, while
PostgreSQL refuses connections (through a proxy the test takes down) or another
connection holds an exclusive lock on the server's SQLite file. Afterwards every
marker is in the database, and while writes failed the clients saw the server's
"storage failing" presence state.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import psycopg
import pytest

from collab.room import STORAGE_FAILING
from tests.e2e.conftest import artifact
from tests.e2e.node import Clients, NodeDriver, Snapshot, YClient
from tests.e2e.server import ROOT, ServerProcess
from tests.e2e.tcp_proxy import TcpProxy
from tests.e2e.waiting import wait_until
from tests.settings import ARTIFACTS

pytestmark = pytest.mark.e2e

SETTINGS = "tests.e2e.storage_outage_settings"
OUTAGE = 10.0
"""Seconds the database fails."""

TYPING_BEFORE, TYPING_AFTER = 1.0, 2.0
"""Seconds of typing before the outage starts and after it ended."""

KEYSTROKE_INTERVAL = 0.05
"""Seconds between two rounds of markers (one per client)."""

RECOVERY_TIMEOUT = 10.0
"""Seconds the server may take to store everything once the database is back."""

DEFAULT_POSTGRESQL = "postgresql://postgres@127.0.0.1:5432/postgres"
"""The machine's PostgreSQL, used unless ``DATABASE_URL`` names another one."""


class Database(Protocol):
    """A private database the server uses, and a way to make it fail."""

    server_env: dict[str, str]
    """Where the server finds the database (in its environment)."""
    direct_env: dict[str, str]
    """Where the test's own commands find it (never failing)."""

    def fail(self) -> None:
        """Make the server's queries fail from now on."""

    def recover(self) -> None:
        """Let them succeed again."""


class RefusingPostgreSQL:
    """A database of its own on PostgreSQL, reached through a proxy that can refuse."""

    def __init__(self, admin_url: str, proxy: TcpProxy, name: str) -> None:
        self.proxy = proxy
        direct = urlsplit(admin_url)._replace(path=f"/{name}")
        proxied = direct._replace(netloc=f"{direct.username}@127.0.0.1:{proxy.port}")
        self.direct_env = {"DATABASE_URL": direct.geturl()}
        self.server_env = {"DATABASE_URL": proxied.geturl()}

    def fail(self) -> None:
        self.proxy.down()

    def recover(self) -> None:
        self.proxy.up()


class LockedSQLite:
    """A SQLite file of its own; another connection can hold an exclusive lock on it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.server_env = self.direct_env = {"COLLAB_TEST_SQLITE": str(path)}
        self._locker: sqlite3.Connection | None = None

    def fail(self) -> None:
        self._locker = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        self._locker.execute("BEGIN EXCLUSIVE")

    def recover(self) -> None:
        assert self._locker is not None
        self._locker.execute("ROLLBACK")
        self._locker.close()


def django_env(database_env: dict[str, str]) -> dict[str, str]:
    """The environment of a Django process of the test project on a private database."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    return {**env, **database_env}


def run_django(database_env: dict[str, str], *arguments: str) -> str:
    """Run ``python *arguments`` as a Django process on a private database; return its output."""
    command = [sys.executable, *arguments]
    result = subprocess.run(
        command, env=django_env(database_env), cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stderr}"
    return result.stdout


def migrate(database: Database) -> None:
    run_django(database.direct_env, "-m", "django", "migrate", "--skip-checks", "-v0")


STORED_TEXT = """
import django, json, sys
django.setup()
from tests.stored import stored_text
print(json.dumps(stored_text(sys.argv[1])))
"""


def stored_text(database: Database, key: str) -> str:
    """The text the database holds for document ``key``, read by another process."""
    return str(json.loads(run_django(database.direct_env, "-c", STORED_TEXT, key)))


def postgresql_admin_url() -> str:
    """The PostgreSQL to make a database on: ``DATABASE_URL``'s server, else the local one."""
    url = os.environ.get("DATABASE_URL", "")
    return (
        urlsplit(url)._replace(path="/postgres").geturl()
        if url.startswith("postgres")
        else DEFAULT_POSTGRESQL
    )


@pytest.fixture(scope="module")
def refusing_postgresql() -> Iterator[RefusingPostgreSQL]:
    admin_url = postgresql_admin_url()
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL reachable at {admin_url}: {exc}")
    name = f"collab_storage_outage_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    target = urlsplit(admin_url)
    proxy = TcpProxy((target.hostname or "127.0.0.1", target.port or 5432))
    proxy.up()
    database = RefusingPostgreSQL(admin_url, proxy, name)
    try:
        migrate(database)
        yield database
    finally:
        proxy.down()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module")
def locked_sqlite() -> Iterator[LockedSQLite]:
    path = ARTIFACTS / f"storage-outage-{uuid.uuid4().hex[:12]}.sqlite3"
    database = LockedSQLite(path)
    try:
        migrate(database)
        yield database
    finally:
        path.unlink(missing_ok=True)


@pytest.fixture(params=["postgresql-refusing", "sqlite-locked"])
def database(request: pytest.FixtureRequest) -> Database:
    name = "refusing_postgresql" if request.param == "postgresql-refusing" else "locked_sqlite"
    found: Database = request.getfixturevalue(name)
    return found


@pytest.fixture(params=["daphne", "uvicorn"])
def outage_server(
    database: Database, redis_url: str, request: pytest.FixtureRequest
) -> Iterator[ServerProcess]:
    """A server on ``database`` (PostgreSQL through the proxy)."""
    env = {**django_env(database.server_env), "REDIS_URL": redis_url}
    server = ServerProcess(env, artifact(request, "server.log"), kind=request.param)
    server.start()
    yield server
    if server.running:
        server.stop()


@pytest.fixture
def outage_clients(
    outage_server: ServerProcess, node_modules: None, request: pytest.FixtureRequest
) -> Iterator[Clients]:
    driver = NodeDriver(artifact(request, "node.log"))
    yield Clients(driver, outage_server)
    driver.close()


class Typists:
    """Clients that each append a numbered marker per round, and watch for the state."""

    def __init__(self, clients: list[YClient]) -> None:
        self.clients = clients
        self.markers: list[str] = []
        self.saw_failing: set[str] = set()

    def type_for(self, seconds: float) -> None:
        """Type rounds of markers for ``seconds``; note which clients show the state."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for client in self.clients:
                marker = f"<{client.name}:{len(self.markers)}>"
                client.insert(10**9, marker)
                self.markers.append(marker)
            for client in self.clients:
                if STORAGE_FAILING in server_states(client.inspect()):
                    self.saw_failing.add(client.name)
            time.sleep(KEYSTROKE_INTERVAL)


def server_states(snapshot: Snapshot) -> list[object]:
    """The presence states a client knows that come from a server (a "collab" field)."""
    return [state for _, state in snapshot["awareness"] if "collab" in state]


def test_no_edit_is_lost_while_the_database_fails(
    database: Database, outage_server: ServerProcess, outage_clients: Clients
) -> None:
    key = f"outage-{uuid.uuid4().hex[:8]}"
    typists = Typists([outage_clients.open(key, None) for _ in range(2)])
    typists.type_for(TYPING_BEFORE)
    database.fail()
    try:
        typists.type_for(OUTAGE)
    finally:
        database.recover()
    typists.type_for(TYPING_AFTER)

    assert typists.saw_failing == {client.name for client in typists.clients}
    for client in typists.clients:
        client.wait(lambda snapshot: not server_states(snapshot), "cleared state", RECOVERY_TIMEOUT)
    lost: list[str] = []

    def all_stored() -> bool:
        text = stored_text(database, key)
        lost[:] = [marker for marker in typists.markers if marker not in text]
        return not lost

    wait_until(
        all_stored,
        RECOVERY_TIMEOUT,
        lambda: f"{len(lost)} of {len(typists.markers)} markers not stored: {lost[:5]}...",
    )
    lines = outage_server.log_text().splitlines()
    for event in ("failed", "works again"):
        said = [
            line for line in lines if line.startswith(f"collab: storing document {key!r} {event}")
        ]
        assert len(said) == 1, f"{event!r} said {len(said)} times\n{outage_server.log_tail()}"

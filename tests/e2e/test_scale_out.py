"""Several server processes (daphne and uvicorn) sharing Redis and the database."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from tests.e2e.balancer import Balancer
from tests.e2e.conftest import artifact, server_env
from tests.e2e.node import Clients, NodeDriver, YClient
from tests.e2e.redis_server import RedisServer
from tests.e2e.server import ServerProcess
from tests.e2e.waiting import wait_until
from tests.stored import stored_text, wait_until_stored

pytestmark = pytest.mark.e2e

CONVERGE_TIMEOUT = 20.0
"""Seconds for clients to converge after a fault: covers y-websocket's reconnect backoff."""


@dataclass
class Cluster:
    """Two server processes, a balancer in front of them, and clients on each."""

    daphne: ServerProcess
    uvicorn: ServerProcess
    on_daphne: Clients
    on_uvicorn: Clients
    balanced: Clients


def start_cluster(
    request: pytest.FixtureRequest,
    redis_url: str,
    driver: NodeDriver,
    settings_module: str = "tests.settings",
) -> Iterator[Cluster]:
    env = server_env(settings_module, redis_url)
    daphne = ServerProcess(env, artifact(request, "daphne.log"), kind="daphne")
    uvicorn = ServerProcess(env, artifact(request, "uvicorn.log"), kind="uvicorn")
    daphne.start()
    uvicorn.start()
    balancer = Balancer([daphne, uvicorn])
    try:
        yield Cluster(
            daphne,
            uvicorn,
            Clients(driver, daphne, prefix="d-"),
            Clients(driver, uvicorn, prefix="u-"),
            Clients(driver, balancer, prefix="lb-"),
        )
    finally:
        driver.close()
        balancer.close()
        for server in (daphne, uvicorn):
            if server.running:
                server.stop()


@pytest.fixture
def cluster(
    transactional_db: None, redis_url: str, node_modules: None, request: pytest.FixtureRequest
) -> Iterator[Cluster]:
    """daphne and uvicorn on the shared Redis (``REDIS_URL`` or a private one)."""
    yield from start_cluster(request, redis_url, NodeDriver(artifact(request, "node.log")))


@pytest.fixture
def private_redis(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    """A Redis of this test's own, which it may stop."""
    server = RedisServer(artifact(request, "redis.log"))
    server.start()
    yield server
    server.stop()


def wait_converged(clients: list[YClient], inserted: list[str]) -> str:
    """Wait until every client has the same text, made of exactly the inserted characters.

    Concurrent inserts may land inside each other, so characters are compared, not words.
    """
    expected = Counter("".join(inserted))

    def converged() -> bool:
        texts = {client.text for client in clients}
        return len(texts) == 1 and Counter(texts.pop()) == expected

    wait_until(
        converged,
        CONVERGE_TIMEOUT,
        lambda: f"texts: {[client.text for client in clients]}",
    )
    return clients[0].text


def test_clients_on_daphne_and_uvicorn_converge_and_see_cursors(
    cluster: Cluster, editor: User
) -> None:
    clients = [cluster.on_daphne.open("multi", editor) for _ in range(3)]
    clients += [cluster.on_uvicorn.open("multi", editor) for _ in range(3)]
    tokens = []
    for round_, (index, client) in itertools.product(range(8), enumerate(clients)):
        token = f"<{index}.{round_}>"
        tokens.append(token)
        client.insert(round_ * index % 7, token)
    text = wait_converged(clients, tokens)
    wait_until_stored("multi", text, 5)

    on_daphne, on_uvicorn = clients[0], clients[-1]
    on_daphne.set_awareness({"user": {"name": "Dora"}, "cursor": 3})
    on_uvicorn.wait_awareness(on_daphne.client_id, {"user": {"name": "Dora"}, "cursor": 3})
    on_daphne.drop()
    on_uvicorn.wait_awareness(on_daphne.client_id, None, timeout=3)


def test_sigkill_during_edit_storm_loses_no_character(cluster: Cluster, editor: User) -> None:
    clients = [cluster.balanced.open("storm", editor) for _ in range(4)]
    tokens = []
    for round_ in range(30):
        if round_ == 10:
            cluster.daphne.kill()
        for index, client in enumerate(clients):
            token = f"[{index}:{round_}]"
            tokens.append(token)
            client.insert(10**9, token)
    text = wait_converged(clients, tokens)
    wait_until_stored("storm", text, 5)


def test_redis_outage_keeps_local_editing_and_converges_after(
    transactional_db: None,
    node_modules: None,
    private_redis: RedisServer,
    editor: User,
    request: pytest.FixtureRequest,
) -> None:
    driver = NodeDriver(artifact(request, "node.log"))
    cluster = start_cluster(request, private_redis.url, driver)
    nodes = next(cluster)
    try:
        first, neighbour = (nodes.on_daphne.open("outage", editor) for _ in range(2))
        other = nodes.on_uvicorn.open("outage", editor)
        first.insert(0, "before ")
        other.wait_text("before ")

        private_redis.stop()
        first.insert(100, "during ")
        neighbour.wait_text("before during ")
        other.insert(0, "elsewhere ")
        private_redis.start()

        text = wait_converged([first, neighbour, other], ["before ", "during ", "elsewhere "])
        wait_until_stored("outage", text, 5)
    finally:
        next(cluster, None)


def test_uvicorn_sigterm_stores_pending_edits(
    transactional_db: None,
    redis_url: str,
    node_modules: None,
    editor: User,
    request: pytest.FixtureRequest,
) -> None:
    env = server_env("tests.e2e.slow_flush_settings", redis_url)
    server = ServerProcess(env, artifact(request, "uvicorn.log"), kind="uvicorn")
    server.start()
    driver = NodeDriver(artifact(request, "node.log"))
    try:
        clients = Clients(driver, server)
        writer, witness = clients.open("graceful", editor), clients.open("graceful", editor)
        writer.insert(0, "kept on shutdown")
        witness.wait_text("kept on shutdown")
        server.stop()
        assert stored_text("graceful") == "kept on shutdown"
    finally:
        driver.close()

"""Fixtures of the end-to-end suite: a daphne server on a free port and a Node driver."""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

from tests.e2e.node import NODE_DIR, Clients, NodeDriver
from tests.e2e.server import ROOT, ServerProcess
from tests.settings import ARTIFACTS


@pytest.fixture(scope="session")
def node_modules() -> None:
    """Fail early, with the fix, when the Node clients are not installed."""
    if not (NODE_DIR / "node_modules").is_dir():
        pytest.fail("Node clients are missing: run `npm ci --prefix tests/node`", pytrace=False)


def artifact(request: pytest.FixtureRequest, suffix: str) -> Path:
    """A per-test log file under ``tests/.artifacts/``."""
    test_name = re.sub(r"[^\w.-]", "_", request.node.name)
    return ARTIFACTS / f"e2e-{test_name}.{suffix}"


def server_env(settings_module: str, redis_url: str) -> dict[str, str]:
    """The server's environment: its settings, Redis, and the test database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "REDIS_URL": redis_url,
    }
    if "DATABASE_URL" in env:
        test_database = f"/{connection.settings_dict['NAME']}"
        env["DATABASE_URL"] = urlsplit(env["DATABASE_URL"])._replace(path=test_database).geturl()
    return env


@pytest.fixture
def server_kind() -> str:
    """The ASGI server the ``server`` fixture runs; a test module may override it."""
    return "daphne"


@pytest.fixture
def server(
    transactional_db: None, redis_url: str, server_kind: str, request: pytest.FixtureRequest
) -> Iterator[ServerProcess]:
    """A running server (``server_kind``); it stops before ``transactional_db`` flushes
    the database.

    Its settings module is ``tests.settings`` unless a test parametrizes ``server``
    indirectly with another one.
    """
    settings_module = getattr(request, "param", "tests.settings")
    env = server_env(settings_module, redis_url)
    process = ServerProcess(env, artifact(request, "server.log"), kind=server_kind)
    process.start()
    yield process
    if process.running:
        process.stop()


@pytest.fixture
def clients(
    server: ServerProcess, node_modules: None, request: pytest.FixtureRequest
) -> Iterator[Clients]:
    """Opens Node Yjs clients on ``server``; the driver ends before the server stops."""
    driver = NodeDriver(artifact(request, "node.log"))
    yield Clients(driver, server)
    driver.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the tail of the server log to every failing e2e test's report."""
    report = yield
    server = getattr(item, "funcargs", {}).get("server")
    if report.failed and isinstance(server, ServerProcess):
        report.sections.append(("server log", server.log_tail()))
    return report

"""Fixtures of the browser suite: Debian's Chromium against a daphne server with test pages.

The server is the end-to-end suite's ``server`` fixture; test modules select the test
pages' settings with :data:`SERVER_SETTINGS`. Playwright drives ``/usr/bin/chromium``
(never a browser of its own download). Each user gets their own browser context, logged
in with a session cookie. A failing test leaves a screenshot of every page it opened in
``tests/.artifacts/``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Generator, Iterator
from typing import Protocol

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, WebSocketRoute, sync_playwright

from tests.conftest import make_user
from tests.e2e.conftest import artifact, clients, node_modules, server, server_kind
from tests.e2e.server import ServerProcess
from tests.settings import ARTIFACTS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # A page a test serves from its own cache (Route.fulfill) has no address, so Chromium
    # would count it as public and block its websocket to 127.0.0.1.
    "--disable-features=LocalNetworkAccessChecks",
]

EXPECT_TIMEOUT = 10_000
"""Milliseconds a page may take to reach an expected state."""

RouteSocket = Callable[[WebSocketRoute], None]


class OpenPage(Protocol):
    def __call__(self, user: User, path: str, route: RouteSocket | None = None) -> Page:
        """Open ``path`` as ``user``; ``route`` intercepts the page's collab websockets."""
        ...


SERVER_SETTINGS = pytest.mark.parametrize("server", ["tests.browser.settings"], indirect=True)
"""Mark for browser test modules: the server serves the test pages of ``tests.browser.urls``."""

__all__ = ["clients", "node_modules", "server", "server_kind"]


@pytest.fixture
def browser(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """Headless Chromium from Debian's ``chromium`` package, for one test.

    Playwright's sync API keeps an event loop marked as running in this thread while
    it is started, which makes Django refuse ORM calls: the test database is set up
    first, and the ORM is allowed for this test only. Stopping Playwright after each
    test clears that loop, so later tests (async ones too) are unaffected.
    """
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium", pytrace=False)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # Under Playwright's loop the ORM used connections of their own: close them, or
        # PostgreSQL cannot drop the test database at the end of the session.
        connections.close_all()


@pytest.fixture
def open_page(
    browser: Browser, server: ServerProcess, request: pytest.FixtureRequest
) -> Iterator[OpenPage]:
    """Opens ``path`` on the server in a new browser context logged in as ``user``.

    The pages' console messages and uncaught errors go to a log under ``tests/.artifacts/``.
    """
    contexts: list[BrowserContext] = []
    pages: list[Page] = []
    console = artifact(request, "console.log").open("w")

    def open_(user: User, path: str, route: RouteSocket | None = None) -> Page:
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        context = browser.new_context(viewport={"width": 900, "height": 600})
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": server.origin}]
        )
        context.set_default_timeout(EXPECT_TIMEOUT)
        if route is not None:
            context.route_web_socket(re.compile(r"/ws/collab/"), route)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        tag = f"{user.get_username()} page {len(pages)}"
        page.on("console", lambda message: print(f"{tag}: {message.text}", file=console))
        page.on("pageerror", lambda error: print(f"{tag}: uncaught {error}", file=console))
        page.goto(server.origin + path)
        return page

    yield open_
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        name = re.sub(r"[^\w.-]", "_", request.node.name)
        for number, page in enumerate(pages, 1):
            if not page.is_closed():
                path = ARTIFACTS / f"browser-{name}-{number}.png"
                page.screenshot(path=path, full_page=True)
    for context in contexts:
        context.close()
    console.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep the call phase's report on the item, so fixtures know whether the test failed."""
    report = yield
    if report.when == "call":
        item.report_call = report  # type: ignore[attr-defined]
    return report


@pytest.fixture
def alice(transactional_db: None) -> User:
    """An editor named alice."""
    return make_user("alice", "change_document", "view_document")


@pytest.fixture
def bob(transactional_db: None) -> User:
    """An editor named bob."""
    return make_user("bob", "change_document", "view_document")

"""Follows docs/tutorial.md literally, from ``startproject`` to two users editing one page.

The test reads the tutorial's code blocks in order and does what each one says, in a
temporary directory, with this virtualenv's ``python`` and ``django-admin`` first on
``PATH``. The tutorial explains the convention to its readers; in short:

- a ``console`` block: each ``$ `` line is a command, run with bash; the lines after it,
  if any, are exactly what the command must print;
- a block whose first line is a comment naming a file (``# mysite/asgi.py`` or
  ``{# notes/templates/notes/note.html #}``): the rest of the block is the whole file;
  ``# <file>: add at the end`` appends it, ``# <file>: replace NAME`` replaces the
  file's top-level ``NAME = ...`` assignment with it;
- a block whose first line is ``# python manage.py shell``: the rest is typed into that
  command.

Any other block fails the test, so nothing the tutorial asks for goes unchecked. The
last command, ``runserver``, keeps running; the test then does the tutorial's last step
in Chromium: alice and bob log in, type in one page and see it in the other; after a
restart of the server, the superuser finds the document, with that text, in the admin.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, EXPECT_TIMEOUT
from tests.browser.test_editing import CURSOR_LABEL, expect_content, expect_status, type_at_end
from tests.e2e.conftest import artifact
from tests.e2e.server import ROOT, START_TIMEOUT, ServerProcess
from tests.e2e.waiting import wait_until
from tests.settings import ARTIFACTS

pytestmark = [pytest.mark.browser]

TUTORIAL = ROOT / "docs" / "tutorial.md"

FENCE = re.compile(r"^```(?P<language>\S*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
"""A fenced code block of the tutorial."""

TARGET = re.compile(r"^(?:# |\{# )(?P<target>.+?)(?: #\})?$")
"""A block's first line naming where the block goes, as a Python or Django comment."""

EDIT = re.compile(r"^(?P<path>[\w./-]+)(?:: (?P<action>add at the end|replace (?P<name>\w+)))?$")
"""A file target: the file, and how the block changes it (default: it is the whole file)."""

PIP_INSTALL = "python -m pip install /path/to/collab"
"""Skipped: collab is already installed in this virtualenv, from this checkout."""

RUNSERVER = "python manage.py runserver"
"""The tutorial's last command; the test runs it in the background (see ``RunServer``)."""

TUTORIAL_ORIGIN = "http://127.0.0.1:8000"
NOTE_PATH = "/notes/welcome/"
ADMIN_PATH = "/admin/"
"""Where the tutorial's last step sends the reader (checked against its text)."""

USERS = {"alice": "alice-tutorial", "bob": "bob-tutorial", "admin": "admin-tutorial"}
"""The users the tutorial creates, with their passwords."""

COMMAND_TIMEOUT = 60
"""Seconds a tutorial command may take."""


@dataclass
class Command:
    """A ``$`` line of a console block, and the output the tutorial shows for it."""

    line: str
    output: str


@dataclass
class FileEdit:
    """A block that goes into a file: the whole file, appended, or replacing ``NAME = ...``."""

    path: str
    action: str | None
    name: str | None
    content: str


@dataclass
class ShellInput:
    """A block that is typed into a command (``python manage.py shell``)."""

    command: str
    text: str


Step = Command | FileEdit | ShellInput


def tutorial_steps(text: str) -> list[Step]:
    """Everything the tutorial tells the reader to run or write, in order."""
    steps: list[Step] = []
    for block in FENCE.finditer(text):
        language, body = block["language"], block["body"]
        if language == "console":
            steps.extend(console_commands(body))
            continue
        first_line, _, content = body.partition("\n")
        target = TARGET.match(first_line)
        assert target is not None, f"a {language} block names no file or command:\n{body}"
        if target["target"].startswith("python "):
            steps.append(ShellInput(target["target"], content))
            continue
        edit = EDIT.match(target["target"])
        assert edit is not None, f"unknown target {target['target']!r}"
        steps.append(FileEdit(edit["path"], edit["action"], edit["name"], content))
    return steps


def console_commands(body: str) -> list[Command]:
    """The ``$`` lines of a console block, each with the lines that follow it."""
    commands: list[Command] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            commands.append(Command(line.removeprefix("$ "), ""))
        else:
            assert commands, f"console block starts with output: {line!r}"
            commands[-1].output += line + "\n"
    return commands


def edit_file(project: Path, edit: FileEdit) -> None:
    """Do what a file block says to ``project / edit.path``."""
    path = project / edit.path
    if edit.action is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(edit.content)
    elif edit.action == "add at the end":
        path.write_text(path.read_text().rstrip("\n") + "\n\n" + edit.content)
    else:
        source = path.read_text()
        lines = source.splitlines(keepends=True)
        (assignment,) = (
            node
            for node in ast.parse(source).body
            if isinstance(node, ast.Assign)
            and [getattr(target, "id", None) for target in node.targets] == [edit.name]
        )
        assert assignment.end_lineno is not None
        lines[assignment.lineno - 1 : assignment.end_lineno] = [edit.content]
        path.write_text("".join(lines))


def project_env() -> dict[str, str]:
    """A terminal's environment in this virtualenv, without the test suite's Django settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("DJANGO_")
        and name not in {"PYTHONPATH", "DATABASE_URL", "REDIS_URL", "COLLAB_TEST_SQLITE"}
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run(command: str, cwd: Path, env: dict[str, str], stdin: str | None = None) -> str:
    """Run a tutorial command with bash; return what it printed (stdout and stderr)."""
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        input=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"`{command}` failed ({result.returncode}):\n{result.stdout}"
    return result.stdout


class RunServer(ServerProcess):
    """The tutorial's ``runserver`` (daphne's), in the project directory, on a free port."""

    def __init__(self, cwd: Path, env: dict[str, str], log_path: Path) -> None:
        super().__init__(env, log_path)
        self.cwd = cwd
        self.command = RUNSERVER

    def start(self) -> None:
        """Start the command and wait until it answers HTTP (the login page)."""
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                shlex.split(self.command),
                cwd=self.cwd,
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(
            lambda: self._alive() and self._answers(),
            START_TIMEOUT,
            lambda: f"`{self.command}` does not answer\n{self.log_tail()}",
        )

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.origin}/accounts/login/", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's Chromium, as in the other browser tests. Not ``conftest.browser``: that
    one sets up the test suite's database, which this test does not use (the tutorial's
    project has its own)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def log_in(browser: Browser, pages: list[Page], url: str, username: str) -> Page:
    """Open ``url`` in a browser of its own (added to ``pages``), and log in as
    ``username`` on the login page it leads to."""
    context = browser.new_context(viewport={"width": 900, "height": 700})
    context.set_default_timeout(EXPECT_TIMEOUT)
    page = context.new_page()
    pages.append(page)
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(USERS[username])
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(url)
    return page


def test_tutorial(browser: Browser, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    text = TUTORIAL.read_text()
    env = project_env()
    cwd = tmp_path
    server: RunServer | None = None
    pages: list[Page] = []
    try:
        for step in tutorial_steps(text):
            assert server is None, f"the tutorial goes on after `{RUNSERVER}`: {step}"
            if isinstance(step, FileEdit):
                edit_file(cwd, step)
            elif isinstance(step, ShellInput):
                run(step.command, cwd, env, stdin=step.text)
            elif step.line == PIP_INSTALL:
                pass  # collab is installed in this virtualenv already, from this checkout
            elif step.line.startswith("cd "):
                cwd = cwd / step.line.removeprefix("cd ")
            elif step.line == RUNSERVER:
                server = RunServer(cwd, env, artifact(request, "server.log"))
                # The one substitution: a free port instead of 8000, and no autoreloader,
                # so that stopping the server stops the server process itself.
                server.command = f"{RUNSERVER} --noreload 127.0.0.1:{server.port}"
                server.start()
            else:
                output = run(step.line, cwd, env)
                if step.output:
                    assert output == step.output, f"`{step.line}` printed:\n{output}"
        assert server is not None, f"the tutorial never runs `{RUNSERVER}`"

        # The last step, in the browser, at the addresses the tutorial gives.
        for path in (NOTE_PATH, ADMIN_PATH):
            assert f"<{TUTORIAL_ORIGIN}{path}>" in text
        alice = log_in(browser, pages, server.origin + NOTE_PATH, "alice")
        bob = log_in(browser, pages, server.origin + NOTE_PATH, "bob")
        for page in (alice, bob):
            expect_status(page, "synced")
        type_at_end(alice, "rich", "Hello from alice.")
        expect_content(bob, "<p>Hello from alice.</p>")
        expect(bob.locator(CURSOR_LABEL["rich"])).to_have_text("alice")
        expect(bob.locator(".collab-presence li")).to_have_text(["bob (you)", "alice"])
        type_at_end(bob, "rich", " Hi, alice!")
        expect_content(alice, "<p>Hello from alice. Hi, alice!</p>")

        # "close both pages, stop the server and start it again, and the text is still there"
        for page in (alice, bob):
            page.context.close()
        server.stop()
        server.start()

        admin = log_in(browser, pages, server.origin + ADMIN_PATH, "admin")
        admin.get_by_role("link", name="Collaborative documents").click()
        admin.get_by_role("link", name="Documents", exact=True).click()
        admin.locator("#result_list").get_by_role("link", name="welcome").click()
        expect_status(admin, "synced")
        expect_content(admin, "<p>Hello from alice. Hi, alice!</p>")
    except BaseException:
        for number, page in enumerate(pages, 1):
            if not page.is_closed():
                page.screenshot(path=ARTIFACTS / f"browser-tutorial-{number}.png", full_page=True)
        raise
    finally:
        for page in pages:
            if not page.is_closed():
                page.context.close()
        if server is not None:
            if server.running:
                server.stop()
            print(server.log_tail())

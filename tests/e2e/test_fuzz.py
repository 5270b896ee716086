"""A bounded mutation fuzzer: hostile frames against a real server, stock clients watching.

An editor and a reader connection send frames mutated from a corpus of real stock-client
frames (``tests/node/fuzz/``) to one document, while stock y-websocket clients edit it.
The run fails on a crashed or silent server, a decoder error in any stock client, a close
code ``docs/protocol.md`` does not document, replicas that differ (the watchers, the
stored document, a newcomer) and a room or presence row left after everyone left.

Bounded for CI (``FUZZ_SECONDS`` per server); ``COLLAB_FUZZ_SECONDS``,
``COLLAB_FUZZ_FRAMES`` and ``COLLAB_FUZZ_SEED`` run it longer or replay a seed (see
``docs/testing.md``). Each hostile frame behind a failure is written to the test's
artifacts directory.
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import subprocess
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from collab import store
from collab.close_codes import CloseCode
from collab.models import Document, DocumentPresence
from tests.e2e.conftest import artifact
from tests.e2e.fuzz_urls import OPEN_ROOMS_PATH
from tests.e2e.node import NODE_DIR, session_cookie
from tests.e2e.server import ServerProcess
from tests.e2e.waiting import wait_until

pytestmark = pytest.mark.e2e

FUZZ_SECONDS = float(os.environ.get("COLLAB_FUZZ_SECONDS", "40"))
"""Seconds of hostile frames per server: the two servers together stay within ~2 minutes."""

FUZZ_FRAMES = int(os.environ.get("COLLAB_FUZZ_FRAMES", "1000000"))
"""At most this many hostile frames per server (the time budget usually ends a run first)."""

FRAMES_PER_SECOND = 60
"""Per attacking connection; with one probe per frame that is 120 frames a second, under
the default ``RATE_LIMIT_MESSAGES`` (200 a second)."""

ANSWER_TIMEOUT = 15.0
"""Seconds the server may take to answer the probe after a frame before it counts as wedged."""

UNLOAD_TIMEOUT = 15.0
"""Seconds for the rooms to store and unload once everyone left (grace period 0.2 s)."""

POLL_INTERVAL = 0.25
"""Seconds between two questions to the server about its rooms (each is a log line)."""

NODE_OVERHEAD = 120.0
"""Seconds the Node side may take beyond the attack: syncing, settling, summarising."""

DOCUMENT = "fuzzed"

UNEXPLAINED_ABNORMAL_CLOSE = 1006


CI_SEED = 12345
"""The seed of the suite's run: the same frames every time, so the suite does not fail
at random. ``COLLAB_FUZZ_SEED=random`` explores new seeds (see docs/testing.md)."""


def fuzz_seed() -> int:
    """``COLLAB_FUZZ_SEED`` (a number, or ``random`` for a new one), else :data:`CI_SEED`."""
    seed = os.environ.get("COLLAB_FUZZ_SEED", str(CI_SEED))
    return random.randrange(2**28) if seed == "random" else int(seed)


def run_node(request: dict[str, Any], log: Path, timeout: float) -> dict[str, Any]:
    """Run ``tests/node/fuzz.mjs`` on ``request``; return its JSON result.

    Raises:
        AssertionError: The Node side failed or did not finish in ``timeout`` seconds.
    """
    with log.open("ab") as stderr:
        try:
            finished = subprocess.run(
                ["node", "fuzz.mjs"],
                cwd=NODE_DIR,
                input=json.dumps(request).encode(),
                stdout=subprocess.PIPE,
                stderr=stderr,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise AssertionError(f"fuzz.mjs {request['mode']} took over {timeout} s") from None
    assert finished.returncode == 0, f"fuzz.mjs {request['mode']} failed; see {log}"
    result: dict[str, Any] = json.loads(finished.stdout)
    return result


def open_rooms(server: ServerProcess) -> list[dict[str, Any]]:
    """The rooms the server process holds, asked over HTTP (so it must still answer)."""
    url = f"http://127.0.0.1:{server.port}/{OPEN_ROOMS_PATH}"
    with urllib.request.urlopen(url, timeout=10) as response:
        rooms: list[dict[str, Any]] = json.load(response)["rooms"]
    return rooms


def stored_updates(key: str) -> list[str]:
    """What the database holds for document ``key``: snapshot and log rows, base64."""
    document = Document.objects.get(key=key)
    return [base64.b64encode(update).decode() for update in store.load_updates(document.pk)]


def describe_incident(incident: dict[str, Any]) -> str:
    """One incident from the Node side and the frames behind it, for the failure message."""
    frames = "".join(
        f"\n      {frame['attacker']} #{frame['number']} from {frame['base']} "
        f"{'/'.join(frame['steps'])} ({frame['bytes']} bytes): {frame['file']}"
        for frame in incident["frames"]
    )
    return f"{incident['kind']}: {incident['detail'][:600]}{frames}"


def same_document(summary: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether two summaries from ``fuzz.mjs`` describe the same content and state vector."""
    return bool(
        summary["digest"] == other["digest"] and summary["stateVector"] == other["stateVector"]
    )


def describe_summary(name: str, summary: dict[str, Any]) -> str:
    """A summary in a line: digest, state vector, pending structs, depth, preview."""
    return (
        f"{name}: {summary['digest'][:12]} sv={summary['stateVector']} "
        f"pending={summary['pending']} depth={summary['depth']} {summary['preview'][:160]!r}"
    )


def unexplained_abnormal_closes(result: dict[str, Any], server_log: str) -> int:
    """How many 1006 closes the server did not decide on.

    The server logs every close it decides on; those that reached a client show as a
    documented code. A 1006 beyond the remaining decisions was the server failing.
    """
    documented = set(CloseCode)
    decided = len(re.findall(rf"collab: closing connection to '{DOCUMENT}'", server_log))
    received = sum(1 for close in result["closes"] if close["code"] in documented)
    received += sum(
        1 for watcher in result["watchers"] for code in watcher["closeCodes"] if code in documented
    )
    abnormal = sum(1 for close in result["closes"] if close["code"] == UNEXPLAINED_ABNORMAL_CLOSE)
    return max(0, abnormal - max(0, decided - received))


def check_run(result: dict[str, Any], server_log: str) -> list[str]:
    """Failures the Node side saw: incidents, closed watchers, diverging replicas."""
    failures = []
    abnormal_excused = unexplained_abnormal_closes(result, server_log) == 0
    for incident in result["incidents"]:
        abnormal = f"closed with {UNEXPLAINED_ABNORMAL_CLOSE} " in incident["detail"]
        if not (abnormal and abnormal_excused):
            failures.append(describe_incident(incident))
    beyond_saved = {kind: count for kind, count in result["incidentCounts"].items() if count > 20}
    if beyond_saved:
        failures.append(f"incidents in all (20 of each kind saved): {beyond_saved}")
    for watcher in result["watchers"]:
        if watcher["closeCodes"]:
            failures.append(
                f"the server closed stock client {watcher['name']}: {watcher['closeCodes']}"
            )
    if not result["converged"]:
        lines = [
            f"{describe_summary(watcher['name'], watcher['summary'])} "
            f"awareness={json.dumps(watcher['awareness'])[:300]}"
            for watcher in result["watchers"]
        ]
        failures.append(
            "watchers did not converge (content or presence):\n    " + "\n    ".join(lines)
        )
    return failures


@pytest.fixture(params=["daphne", "uvicorn"])
def server_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both servers: daphne buffers every send, uvicorn holds them back.

    The server gets ``PYTHONFAULTHANDLER``, so a native crash logs its Python traceback.
    """
    monkeypatch.setenv("PYTHONFAULTHANDLER", "1")
    return str(request.param)


@pytest.mark.timeout(FUZZ_SECONDS + NODE_OVERHEAD + 3 * UNLOAD_TIMEOUT + 60)
@pytest.mark.parametrize("server", ["tests.e2e.fuzz_settings"], ids=["fuzz"], indirect=True)
def test_mutated_frames_break_nothing(
    server: ServerProcess,
    node_modules: None,
    editor: User,
    reader: User,
    request: pytest.FixtureRequest,
) -> None:
    """Hostile frames from an editor and a reader leave the server, its clients and the
    stored document whole, every close documented and no room behind."""
    seed = fuzz_seed()
    artifacts = artifact(request, f"fuzz-{seed}")
    log = artifact(request, "fuzz-node.log")
    document = Document.objects.create(key=DOCUMENT)
    connection = {
        "url": server.ws_url,
        "key": DOCUMENT,
        "origin": server.origin,
        "cookies": {"editor": session_cookie(editor), "reader": session_cookie(reader)},
    }
    result = run_node(
        {
            **connection,
            "mode": "run",
            "seed": seed,
            "seconds": FUZZ_SECONDS,
            "maxFrames": FUZZ_FRAMES,
            "framesPerSecond": FRAMES_PER_SECOND,
            "answerTimeout": ANSWER_TIMEOUT * 1000,
            "documentedCodes": [int(code) for code in CloseCode],
            "artifacts": str(artifacts),
        },
        log,
        FUZZ_SECONDS + NODE_OVERHEAD,
    )
    failures = check_run(result, server.log_text())
    if server.running:
        failures += check_after_leaving(server, document, connection, result, artifacts)
    else:
        failures.insert(0, f"the server process died (exit status {server.exit_status})")

    (artifacts / "result.json").write_text(json.dumps(result, indent=1))
    closes = Counter(close["code"] for close in result["closes"])
    ran = (
        f"{server.kind}, seed {seed}: {result['frames']} hostile frames, "
        f"{result['connections']} connections, closes {dict(closes)}"
    )
    print(ran)
    if failures:
        pytest.fail(
            f"{ran}\nreplay: COLLAB_FUZZ_SEED={seed} pytest tests/e2e/test_fuzz.py -k {server.kind}"
            f"\nartifacts: {artifacts}\n- " + "\n- ".join(failures),
            pytrace=False,
        )


def check_left(server: ServerProcess, document: Document, when: str) -> list[str]:
    """Failures if a room or presence row of ``document`` outlives its connections."""
    rooms: list[dict[str, Any]] = []

    def left() -> bool:
        nonlocal rooms
        time.sleep(POLL_INTERVAL)
        rooms = open_rooms(server)
        return not rooms and not DocumentPresence.objects.filter(document=document).exists()

    try:
        wait_until(left, UNLOAD_TIMEOUT, lambda: "")
    except OSError as exc:
        return [f"{when}: the server does not answer HTTP: {exc}"]
    except AssertionError:
        presence = list(DocumentPresence.objects.filter(document=document).values("connections"))
        return [f"{when}: rooms left open {rooms}, presence rows {presence}"]
    return []


def check_after_leaving(
    server: ServerProcess,
    document: Document,
    connection: dict[str, Any],
    result: dict[str, Any],
    artifacts: Path,
) -> list[str]:
    """Once everyone left: no room, no presence row; stored and fresh views match the watchers.

    The stored updates go to ``artifacts`` (``stored-updates.json``, base64), to replay.
    """
    failures = check_left(server, document, "after the run")
    reference = result["watchers"][0]["summary"]
    log = server.log_path.with_suffix(".summaries.log")
    updates = stored_updates(DOCUMENT)
    (artifacts / "stored-updates.json").write_text(json.dumps(updates))
    stored = run_node({"mode": "summarise", "updates": updates}, log, 120)
    if "error" in stored or not same_document(stored["summary"], reference):
        failures.append(
            f"the stored document differs from the watchers: {stored.get('error', '')}\n    "
            + describe_summary("stored", stored["summary"])
            + "\n    "
            + describe_summary("watchers", reference)
        )
    fresh = run_node({**connection, "mode": "fresh"}, log, 120)
    if not fresh["synced"] or not same_document(fresh["summary"], reference):
        failures.append(
            f"a fresh client (synced: {fresh['synced']}) differs from the watchers:\n    "
            + describe_summary("fresh", fresh["summary"])
            + "\n    "
            + describe_summary("watchers", reference)
        )
    if not server.running:
        return [*failures, "the server process died when a fresh client loaded the document"]
    return failures + check_left(server, document, "after the fresh client")

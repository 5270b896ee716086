"""Measure the memory one hostile reader or editor can make a collab server hold.

Usage (from the repository root, after ``npm ci --prefix benchmarks``)::

    .venv/bin/python benchmarks/hostile_memory.py [--seconds 8] [--rounds 3]
        [--servers uvicorn daphne] [--only step1 growth ...]

For every server, role and attack (and every round), a fresh server process is started
on a fresh copy of a migrated SQLite database; two stock Node clients (``load.mjs``'s
``victims`` scenario, logged in as a user who may edit) open one document, write about
100 KB of text into it and set their presence. Then they edit (one character each, every
50 ms) while one anonymous attacker, a bare websocket that never reads what it is sent,
runs the attack for ``--seconds`` at up to :data:`FRAMES_PER_SECOND` (just under the rate
limit), connecting again whenever the server closes it. Anonymous users may only read
(``reader``) or may edit (``editor``).

The server's resident memory (``/proc/<pid>/status``) is read before the attack, at its
peak during it (``VmHWM``, reset through ``/proc/<pid>/clear_refs`` just before), 2 s
after the attacker left (the victims still connected) and once the victims left too and
the room unloaded. The victims report how many of their edits reached the other one,
with what delay, whether both ended with the same document, and the close codes they got.

Figures are printed, the medians and spreads as a Markdown table; everything is written to
``benchmarks/.artifacts/hostile_memory.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
ARTIFACTS = BENCH / ".artifacts"
TEMPLATE_DB = ARTIFACTS / "hostile-template.sqlite3"
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
os.environ["COLLAB_BENCH_DB"] = str(TEMPLATE_DB)

from benchmarks import hostile_frames  # noqa: E402
from benchmarks.hostile_frames import Frames  # noqa: E402
from tests.e2e.raw_client import RawClient  # noqa: E402
from tests.e2e.server import ServerProcess  # noqa: E402

Result = dict[str, Any]

FRAMES_PER_SECOND = 190
"""The attacker's pace: under RATE_LIMIT_MESSAGES (200 per second), evenly spaced, so
the fixed-window rate limit never closes it."""

GRACE = 1.0
"""ROOM_GRACE_PERIOD of the benchmark servers (seconds)."""

UNLOAD_WAIT = GRACE + 3.0
"""Seconds from the victims' leaving to the "unloaded" reading (grace, flush, compaction)."""

SEED_CHARS = 100_000
KEY = "hostile"
MIB = 1024 * 1024

BOTH = ("reader", "editor")
ATTACKS: dict[str, tuple[tuple[str, ...], bool, str]] = {
    "none": (("reader",), False, "no attacker: the victims alone (the baseline)"),
    "awareness-nulls": (BOTH, True, "awareness frames of 100,000 null states of made-up ids"),
    "awareness-ids": (BOTH, True, "awareness frames of 100,000 made-up ids with a state"),
    "awareness-max": (BOTH, True, "4 presence states of 32 KiB, a new clock every frame"),
    "awareness-forged": (BOTH, True, "states and nulls for the victims' own client ids"),
    "step1": (BOTH, False, "sync step 1 (whole document) requests, never reading"),
    "query-awareness": (BOTH, False, "query-awareness requests, never reading"),
    "never-read": (BOTH, False, "connects and never reads while the victims edit"),
    "max-frames": (BOTH, True, "the same 1 MB update again and again"),
    "waiting": (("editor",), True, "1 MB updates that wait for one never sent"),
    "waiting-structs": (("editor",), True, "as waiting, of 2-byte structs (GC ranges)"),
    "deep": (("editor",), True, "nesting beyond MAX_DEPTH (refused), up to 1 MB"),
    "growth": (("editor",), True, "a new 1,000,000-character insert every frame"),
}
"""Attack name: (the roles it runs as, whether the attacker reads, what it sends).

An attacker that reads learns at once that it was closed, and connects again; one that
does not read learns it only when a send fails."""


def attack_frames(name: str, victims: list[int]) -> Frames | None:
    """The frames of attack ``name`` (None: the attacker only connects, or there is none)."""
    builders: dict[str, Callable[[], Frames]] = {
        "awareness-nulls": lambda: hostile_frames.awareness_nulls,
        "awareness-ids": lambda: hostile_frames.awareness_ids,
        "awareness-max": lambda: hostile_frames.awareness_max_states,
        "awareness-forged": lambda: hostile_frames.awareness_forged(victims),
        "step1": lambda: hostile_frames.step1,
        "query-awareness": lambda: hostile_frames.query_awareness,
        "max-frames": hostile_frames.duplicates,
        "waiting": hostile_frames.waiting,
        "waiting-structs": lambda: hostile_frames.small_structs,
        "deep": hostile_frames.deep,
        "growth": hostile_frames.growth,
    }
    build = builders.get(name)
    return None if build is None else build()


class Attacker(threading.Thread):
    """One anonymous connection after another, sending ``frames`` (never reading, unless
    ``reads``: then only to notice the close and connect again at once)."""

    def __init__(
        self, server: ServerProcess, key: str, frames: Frames | None, reads: bool, seconds: float
    ) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.key = key
        self.frames = frames
        self.reads = reads
        self.seconds = seconds
        self.sent = 0
        self.sent_bytes = 0
        self.connections = 0
        self.closes: Counter[str] = Counter()

    def run(self) -> None:
        """Attack until the time is up (every loop is bounded by it)."""
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            try:
                client = RawClient(
                    self.server.port, f"/ws/collab/{self.key}", {"Origin": self.server.origin}
                )
            except (OSError, AssertionError):
                self.closes["refused at handshake"] += 1
                time.sleep(0.05)
                continue
            self.connections += 1
            closed: list[str] = []
            if self.reads:
                threading.Thread(target=self._read, args=(client, closed), daemon=True).start()
            try:
                self._send_until(client, deadline, closed)
            except OSError:
                if not self.reads:
                    closed.append(self._close_code(client))
            client.close()
            if closed:
                self.closes[closed[0]] += 1

    def _send_until(self, client: RawClient, deadline: float, closed: list[str]) -> None:
        if self.frames is None:
            time.sleep(max(0.0, deadline - time.monotonic()))
            return
        due = time.monotonic()
        while due < deadline and not closed:
            frame = self.frames(self.sent)
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            client.send(frame)
            self.sent += 1
            self.sent_bytes += len(frame)
            due = max(due + 1 / FRAMES_PER_SECOND, time.monotonic())

    def _read(self, client: RawClient, closed: list[str]) -> None:
        closed.append(self._close_code(client, self.seconds + 5))

    @staticmethod
    def _close_code(client: RawClient, timeout: float = 1.0) -> str:
        try:
            return str(client.read_until_closed(timeout))
        except OSError:
            return "None"


class Victims:
    """``load.mjs``'s ``victims`` scenario: two stock clients editing the document."""

    def __init__(self, server: ServerProcess, key: str, cookie: str) -> None:
        spec = {
            "scenario": "victims",
            "url": server.ws_url,
            "origin": server.origin,
            "cookie": cookie,
            "key": key,
            "seedChars": SEED_CHARS,
            "limit": 3600,
        }
        self.process = subprocess.Popen(
            ["node", str(BENCH / "load.mjs"), json.dumps(spec)],
            cwd=BENCH,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self._line()

    def _line(self) -> Result:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the victims exited with {self.process.wait()}")
        return dict(json.loads(line))

    def command(self, command: str) -> Result | None:
        """Send ``command``; return the line it prints ("report"), if any."""
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._line() if command == "report" else None

    def close(self) -> None:
        """Close both clients and wait for the process to end."""
        self.command("close")
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def status_kib(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` figure in KiB (``VmRSS``, ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def reset_peak(pid: int) -> None:
    """Make ``VmHWM`` start again from the current resident size."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class RssSampler(threading.Thread):
    """Reads the server's ``VmRSS`` every :attr:`interval` seconds until stopped."""

    interval = 0.25

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        """Sample until :attr:`stopped` is set."""
        while not self.stopped.wait(self.interval):
            self.samples.append((time.monotonic(), status_kib(self.pid, "VmRSS")))

    def late_growth(self) -> float:
        """MiB per second over the second half of the samples (is it still growing?)."""
        late = self.samples[len(self.samples) // 2 :]
        if len(late) < 2:
            return 0.0
        (t0, r0), (t1, r1) = late[0], late[-1]
        return (r1 - r0) / 1024 / max(t1 - t0, 1e-6)


def prepare_database() -> str:
    """Migrate the template database and log the victims' user in; return its cookie."""
    import django

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{TEMPLATE_DB}{suffix}").unlink(missing_ok=True)
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connections

    from tests.e2e.node import session_cookie

    call_command("migrate", verbosity=0, skip_checks=True)
    victim = User.objects.create_superuser("victim", "victim@example.com", "victim")
    cookie = session_cookie(victim)
    connections.close_all()
    return cookie


def run_attack(
    kind: str, role: str, attack: str, seconds: float, cookie: str, passes: int = 1
) -> Result:
    """One round: a fresh server and database, the victims, the attack; its figures.

    With ``passes`` over 1, the victims and the attack come back that many times to the
    same server (each time on a new document), and ``repeatRetained`` tells what the
    server held at the end of the last pass beyond what it held before the first: memory
    that was kept by the allocators for reuse does not grow from pass to pass, a leak does.
    """
    database = ARTIFACTS / f"hostile-{kind}.sqlite3"
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(TEMPLATE_DB, database)
    env = {
        **os.environ,
        "COLLAB_BENCH_DB": str(database),
        "COLLAB_BENCH_GRACE": str(GRACE),
        "COLLAB_BENCH_ANONYMOUS": "read" if role == "reader" else "edit",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    server = ServerProcess(env, ARTIFACTS / f"hostile-{kind}-{role}-{attack}.log", kind)
    server.start()
    try:
        runs = [_measure(server, f"{KEY}-{n}", attack, seconds, cookie) for n in range(passes)]
        result = runs[0]
        if passes > 1 and runs[-1]["unloaded"] is not None:
            result["repeatRetained"] = [run["unloaded"] - result["before"] for run in runs]
        return result
    finally:
        if server.running:
            server.stop()


def _measure(server: ServerProcess, key: str, attack: str, seconds: float, cookie: str) -> Result:
    pid = server.pid
    victims = Victims(server, key, cookie)
    try:
        time.sleep(1.0)
        before = status_kib(pid, "VmRSS")
        frames = attack_frames(attack, victims.ready["clientIds"])
        reads = ATTACKS[attack][1]
        attacker = Attacker(server, key, frames, reads, seconds) if attack != "none" else None
        sampler = RssSampler(pid)
        victims.command("edit")
        reset_peak(pid)
        sampler.start()
        started = time.monotonic()
        if attacker is None:
            time.sleep(seconds)
        else:
            attacker.start()
            attacker.join(seconds + 30)
        elapsed = time.monotonic() - started
        sampler.stopped.set()
        peak = status_kib(pid, "VmHWM")
        time.sleep(2.0)
        attacker_gone = status_kib(pid, "VmRSS")
        report = victims.command("report") or {}
    finally:
        victims.close()
    time.sleep(UNLOAD_WAIT)
    unloaded = status_kib(pid, "VmRSS") if server.running else None
    log = server.log_text()
    grown = report.get("lengths", [0])[0] - victims.ready["lengths"][0]
    return {
        "before": before / 1024,
        "peak": peak / 1024,
        "peakGrowth": (peak - before) / 1024,
        "lateGrowthPerSecond": sampler.late_growth(),
        "attackerGone": attacker_gone / 1024,
        "unloaded": None if unloaded is None else unloaded / 1024,
        "retained": None if unloaded is None else (unloaded - before) / 1024,
        "framesPerSecond": (attacker.sent / elapsed) if attacker else 0,
        "mibPerSecondSent": (attacker.sent_bytes / MIB / elapsed) if attacker else 0,
        "connections": attacker.connections if attacker else 0,
        "closes": dict(attacker.closes) if attacker else {},
        "documentGrowthCharsPerSecond": grown / elapsed,
        "victims": report,
        "victimsKeptSyncing": bool(
            report
            and report["identical"]
            and report["delivered"] == report["sent"]
            and not report["closeCodes"]
        ),
        "serverAlive": server.running,
        "serverErrors": log.count(" ERROR ") + log.count("Traceback"),
    }


def decode_costs() -> str:
    """Peak Python memory of reading one maximum-size frame of each kind, in isolation.

    What a frame costs while collab reads it (``tracemalloc``; pycrdt's own memory is not
    traced), as a multiple of the frame's size: the "decode overhead" of each frame.
    """
    from collab.exceptions import ContentRefused
    from collab.protocol import SyncUpdate, decode_message
    from collab.update_format import read_update

    frames = {
        "awareness: 100,000 nulls of made-up ids": hostile_frames.awareness_nulls(0),
        "awareness: 100,000 made-up ids with {}": hostile_frames.awareness_ids(0),
        "awareness: 4 states of 32 KiB": hostile_frames.awareness_max_states(0),
        "update: 1,000,000 characters": hostile_frames.growth()(0),
        "update: 524,263 two-byte structs": hostile_frames.small_structs(0),
        "update: a value nested 524,256 deep (refused)": hostile_frames.deep()(0),
    }
    lines = ["| frame | bytes | peak while read (MiB) | x frame |", "|---|---:|---:|---:|"]
    for name, frame in frames.items():
        tracemalloc.start()
        try:
            message = decode_message(frame)
            if isinstance(message, SyncUpdate):
                read_update(message.update, hostile_frames.MAX_DEPTH)
        except ContentRefused:
            pass
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        lines.append(f"| {name} | {len(frame):,} | {peak / MIB:.1f} | {peak / len(frame):.0f} |")
    return "\n".join(lines)


NUMBERS = (
    "before",
    "peak",
    "peakGrowth",
    "lateGrowthPerSecond",
    "attackerGone",
    "unloaded",
    "retained",
    "framesPerSecond",
    "mibPerSecondSent",
    "documentGrowthCharsPerSecond",
)


def combined(runs: list[Result]) -> Result:
    """Median, lowest and highest of each figure over the rounds; the worst of the rest."""
    result: Result = {"rounds": len(runs)}
    for key in NUMBERS:
        values = [run[key] for run in runs if run.get(key) is not None]
        if values:
            result[key] = statistics.median(values)
            result[f"{key}Range"] = (min(values), max(values))
    result["victimsKeptSyncing"] = all(run["victimsKeptSyncing"] for run in runs)
    result["serverAlive"] = all(run["serverAlive"] for run in runs)
    result["serverErrors"] = max(run["serverErrors"] for run in runs)
    result["p99"] = statistics.median(
        [run["victims"].get("p99") or 0.0 for run in runs if run["victims"]] or [0.0]
    )
    closes: Counter[str] = Counter()
    for run in runs:
        closes.update(run["closes"])
    result["closes"] = dict(closes)
    return result


def table(results: dict[str, Result]) -> str:
    """The combined results as a Markdown table (MiB; ranges over the rounds)."""

    def spread(result: Result, key: str, digits: int = 0) -> str:
        if key not in result:
            return "-"
        low, high = result[f"{key}Range"]
        median = f"{result[key]:.{digits}f}"
        return (
            median if result["rounds"] == 1 else f"{median} ({low:.{digits}f} to {high:.{digits}f})"
        )

    lines = [
        "| server | role | attack | before | peak - before | after attacker left | "
        "unloaded - before | frames/s | victims synced (p99 ms) | attacker closed with |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, result in results.items():
        kind, role, attack = name.split("/")
        closes = ", ".join(f"{code} x{count}" for code, count in sorted(result["closes"].items()))
        synced = "yes" if result["victimsKeptSyncing"] else "**no**"
        lines.append(
            f"| {kind} | {role} | {attack} | {spread(result, 'before')} | "
            f"{spread(result, 'peakGrowth')} | {spread(result, 'attackerGone')} | "
            f"{spread(result, 'retained')} | {spread(result, 'framesPerSecond')} | "
            f"{synced} ({result['p99']:.0f}) | {closes or '-'} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse flags, run every attack on every server and role, print and save the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each attack")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each attack")
    parser.add_argument("--servers", nargs="*", default=["uvicorn", "daphne"])
    parser.add_argument("--roles", nargs="*", default=list(BOTH))
    parser.add_argument("--only", nargs="*", help="attack names (default: all)")
    parser.add_argument("--passes", type=int, default=1, help="attacks per server (leak check)")
    parser.add_argument(
        "--decode-only", action="store_true", help="only the cost of reading each frame"
    )
    args = parser.parse_args()
    if shutil.which("node") is None or not (BENCH / "node_modules").exists():
        sys.exit("node and `npm ci --prefix benchmarks` are needed")
    ARTIFACTS.mkdir(exist_ok=True)
    if args.decode_only:
        import django

        django.setup()
        print(decode_costs())
        return
    cookie = prepare_database()
    print(decode_costs(), flush=True)
    runs: dict[str, list[Result]] = {}
    for _ in range(args.rounds):
        for kind in args.servers:
            for role in args.roles:
                for attack, (roles, _reads, _what) in ATTACKS.items():
                    if role not in roles or (args.only and attack not in args.only):
                        continue
                    name = f"{kind}/{role}/{attack}"
                    result = run_attack(kind, role, attack, args.seconds, cookie, args.passes)
                    runs.setdefault(name, []).append(result)
                    print(f"{name}: {json.dumps(result)}", flush=True)
    results = {name: combined(name_runs) for name, name_runs in runs.items()}
    (ARTIFACTS / "hostile_memory.json").write_text(
        json.dumps({"runs": runs, "combined": results}, indent=2)
    )
    print(table(results))


if __name__ == "__main__":
    main()

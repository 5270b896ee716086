"""Run every benchmark scenario against collab (daphne, uvicorn) and the reference server.

Usage (from the repository root, after ``npm ci --prefix benchmarks``)::

    .venv/bin/python benchmarks/run.py [--duration 10] [--idle 5000] [--only fanout-10 ...]

Each scenario gets a freshly started server; collab stores into a fresh database. The
results table (with the ratio collab / reference) is printed and written as JSON to
``benchmarks/.artifacts/results.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
ARTIFACTS = BENCH / ".artifacts"
sys.path.insert(0, str(ROOT))

from tests.e2e.server import daphne_command, free_port, uvicorn_command  # noqa: E402

Result = dict[str, Any]
LAYERS = {
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "core": "channels_redis.core.RedisChannelLayer",
}
"""The channels-redis layers ``--layer`` chooses from (the deployment guide recommends pubsub)."""
START_TIMEOUT = 30.0
GRACE = 1.0
"""collab's ROOM_GRACE_PERIOD in the benchmark settings (seconds)."""


class Server:
    """One server process on 127.0.0.1 (collab under daphne/uvicorn, or the reference)."""

    def __init__(self, kind: str, env: dict[str, str], log: Path) -> None:
        self.kind = kind
        self.port = free_port()
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL a WebsocketProvider is given."""
        if self.kind == "reference":
            return f"ws://127.0.0.1:{self.port}"
        return f"ws://127.0.0.1:{self.port}/ws/collab"

    @property
    def hocuspocus_url(self) -> str:
        """URL a HocuspocusProvider is given (collab only)."""
        return f"ws://127.0.0.1:{self.port}/ws/hocuspocus"

    @property
    def origin(self) -> str:
        """The Origin header a page served here would send."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """Process id of the server."""
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        """Start the server and wait for its "listening" log line."""
        env = dict(self.env)
        if self.kind == "reference":
            command = ["node", str(BENCH / "node_modules/y-websocket/bin/server.js")]
            env.update(HOST="127.0.0.1", PORT=str(self.port))
            ready = f"on port {self.port}"
        elif self.kind == "daphne":
            command = [sys.executable, *daphne_command(self.port)]
            ready = f"Listening on TCP address 127.0.0.1:{self.port}"
        else:
            command = [sys.executable, *uvicorn_command(self.port)]
            command[-1:-1] = UVICORN_OPTIONS
            if self.kind == "floor":
                command[-1] = "benchmarks.floor:application"
            ready = f"Uvicorn running on http://127.0.0.1:{self.port}"
        self.log.write_bytes(b"")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while ready.encode() not in self.log.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind} did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def collab_env(redis: bool) -> dict[str, str]:
    """Environment of a collab server process using the benchmark settings."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "COLLAB_BENCH_DB": str(ARTIFACTS / "bench.sqlite3"),
        "COLLAB_BENCH_GRACE": str(GRACE),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    return env


def fresh_database() -> None:
    """Delete the benchmark SQLite file (unless DATABASE_URL is set) and migrate."""
    if "DATABASE_URL" not in os.environ:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{ARTIFACTS / 'bench.sqlite3'}{suffix}").unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--verbosity", "0", "--skip-checks"],
        cwd=ROOT,
        env=collab_env(redis=False),
        check=True,
    )


PROFILE: dict[str, str] = {}
"""Set by ``--profile``: {"name": scenario} makes collab servers run under py-spy."""

UVICORN_OPTIONS: list[str] = []
"""Set by ``--uvicorn-option``: more command-line options for every uvicorn server."""


@contextmanager
def profiled(server: Server, name: str) -> Iterator[None]:
    """Sample ``server`` with py-spy (collapsed stacks) while the block runs."""
    out = ARTIFACTS / f"profile-{name}-{server.kind}-{server.port}.txt"
    spy = subprocess.Popen(
        [
            *(str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw"),
            *("--pid", str(server.pid), "--rate", "200", "--nonblocking", "-o", str(out)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
        print(summarize(out), flush=True)


def summarize(path: Path, top: int = 25) -> str:
    """Top functions of a py-spy collapsed-stack file, by inclusive and by self samples."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1] for f in stack.split(";")[1:]]
        total += count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        if frames:
            own[frames[-1]] = own.get(frames[-1], 0) + count
    lines = [f"profile {path.name}: {total} samples"]
    for title, table_ in (("inclusive", inclusive), ("self", own)):
        lines.append(f"  top {title}:")
        for frame, count in sorted(table_.items(), key=lambda kv: -kv[1])[:top]:
            lines.append(f"    {100 * count / max(1, total):5.1f}%  {frame}")
    return "\n".join(lines)


@contextmanager
def servers(kind: str, count: int = 1, redis: bool = False) -> Iterator[list[Server]]:
    """Start ``count`` fresh servers of ``kind`` and stop them afterwards."""
    envs = []
    for i in range(count):
        if kind == "reference":  # each process its own storage: LevelDB locks its directory
            storage = ARTIFACTS / f"reference-leveldb-{i}"
            shutil.rmtree(storage, ignore_errors=True)
            envs.append({**os.environ, "YPERSISTENCE": str(storage)})
        else:
            envs.append(collab_env(redis))
    started = [Server(kind, env, ARTIFACTS / f"{kind}-{i}.log") for i, env in enumerate(envs)]
    try:
        for server in started:
            server.start()
        with ExitStack() as stack:
            if PROFILE and kind != "reference":
                for server in started:
                    stack.enter_context(profiled(server, PROFILE["name"]))
            yield started
    finally:
        for server in started:
            server.stop()


def load(spec: dict[str, Any]) -> Result:
    """Run one scenario of ``load.mjs`` and return its JSON result."""
    done = subprocess.run(
        ["node", str(BENCH / "load.mjs"), json.dumps(spec)],
        cwd=BENCH,
        capture_output=True,
        text=True,
        timeout=spec.get("limit", 600) + 30,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load.mjs {spec['scenario']} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def logged_in(prefix: str, count: int) -> list[str]:
    """Session cookies of ``count`` new editors (see :mod:`benchmarks.sessions`)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.sessions", prefix, str(count)],
        cwd=ROOT,
        env=collab_env(redis=False),
        capture_output=True,
        text=True,
        check=True,
    )
    return list(json.loads(done.stdout))


def fanout_spec(
    targets: list[Server], key: str, clients: int, writers: int, rate: int, duration: float
) -> dict[str, Any]:
    """A fan-out scenario spec for clients spread over ``targets``."""
    return {
        "scenario": "fanout",
        "urls": [t.url for t in targets],
        "origin": targets[0].origin,
        "key": key,
        "clients": clients,
        "writers": writers,
        "rate": rate,
        "duration": duration,
        "limit": duration + 120,
    }


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) process ``pid`` has used so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident memory of process ``pid``."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) * 1024


def redis_commands() -> int:
    """Commands the benchmark's Redis has processed since it started (all its clients)."""
    import redis

    client = redis.Redis.from_url(collab_env(redis=True)["REDIS_URL"])
    try:
        return int(client.info("stats")["total_commands_processed"])
    finally:
        client.close()


def hold_documents(
    targets: list[Server],
    prefix: str,
    count: int,
    settle: float,
    window: float,
    sockets: int | None = None,
) -> Result:
    """Open ``count`` documents on every server, then measure the servers while idle.

    One ``load.mjs opendocs`` process per server opens the same documents there (one
    client per document and server, one edit each); after ``settle`` seconds the CPU
    time of each server and the commands Redis processed are read over ``window``
    seconds. With ``sockets``, Hocuspocus providers hold the documents over that many
    sockets per server instead (``opendocsHocuspocus``).
    """
    before = [rss_bytes(t.pid) for t in targets]
    holders = [
        subprocess.Popen(
            ["node", str(BENCH / "load.mjs"), json.dumps(spec)],
            cwd=BENCH,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for spec in (
            {
                "scenario": "opendocs" if sockets is None else "opendocsHocuspocus",
                "url": target.url if sockets is None else target.hocuspocus_url,
                "sockets": sockets,
                "origin": target.origin,
                "keyPrefix": prefix,
                "count": count,
                "limit": 900 + settle + window,
            }
            for target in targets
        )
    ]
    try:
        opened = [json.loads(holder.stdout.readline() or "{}") for holder in holders]  # type: ignore[union-attr]
        if not all(ready.get("ready") for ready in opened):
            raise RuntimeError(f"opendocs did not get ready: {opened}")
        time.sleep(settle)
        cpu = [cpu_seconds(t.pid) for t in targets]
        commands = redis_commands()
        started = time.monotonic()
        time.sleep(window)
        elapsed = time.monotonic() - started
        commands = redis_commands() - commands - 1  # less this reading's own INFO
        cpu = [cpu_seconds(t.pid) - used for t, used in zip(targets, cpu, strict=True)]
        after = [rss_bytes(t.pid) for t in targets]
    finally:
        closed = []
        for holder in holders:
            out, _ = holder.communicate("close\n", timeout=120)
            closed.append(json.loads(out.strip().splitlines()[-1]) if out.strip() else {})
    return {
        "documents": count,
        "connected": min(ready["connected"] for ready in opened),
        "stillConnected": min(done.get("stillConnected", 0) for done in closed),
        "reconnects": sum(done.get("closes", 0) for done in closed),
        "connectSeconds": max(ready["connectSeconds"] for ready in opened),
        "cpuPercent": max(100 * used / elapsed for used in cpu),
        "redisCommandsPerSecond": commands / elapsed,
        "rssPerProcessMB": max(after) / 2**20,
        "perDocumentKB": max((a - b) / count for a, b in zip(after, before, strict=True)) / 1024,
    }


def scenarios(args: argparse.Namespace) -> dict[str, Callable[[str], Result]]:
    """Every scenario by name: each takes a server kind and returns its figures.

    Every call uses document keys of its own (naming the server kind and the round):
    the servers and the rounds of ``--repeat`` share the database, and each must start
    from empty documents.
    """
    run_id = str(int(time.time()))
    calls = itertools.count(1)

    def fresh_key(name: str, kind: str) -> str:
        return f"{name}-{kind}-{run_id}-{next(calls)}"

    def fan(
        name: str, clients: int, writers: int, rate: int, procs: int = 1
    ) -> Callable[[str], Result]:
        def run(kind: str) -> Result:
            with servers(kind, procs, redis=procs > 1) as targets:
                spec = fanout_spec(
                    targets, fresh_key(name, kind), clients, writers, rate, args.duration
                )
                return load(spec)

        return run

    def hold(count: int, group: int, size: int) -> Callable[[str], Result]:
        def run(kind: str) -> Result:
            with servers(kind) as (server,):
                spec = {
                    "scenario": "hold",
                    "urls": [server.url],
                    "origin": server.origin,
                    "keyPrefix": fresh_key(f"hold-{count}-{group}", kind),
                    "pid": server.pid,
                    "count": count,
                    "groupSize": group,
                    "bytes": size,
                    "limit": 300,
                }
                return load(spec)

        return run

    def cold(kind: str) -> Result:
        with servers(kind) as (server,):
            spec = {
                "scenario": "coldjoin",
                "url": server.url,
                "origin": server.origin,
                "key": fresh_key("cold", kind),
                "chars": args.chars,
                "reps": args.reps,
                "unloadWait": GRACE + 2.0,
                "limit": 400,
            }
            return load(spec)

    def storm(clients: int, users: int, documents: int) -> Callable[[str], Result]:
        def run(kind: str) -> Result:
            prefix = fresh_key(f"storm{clients}", kind)
            cookies = logged_in(prefix, users) if kind != "reference" else []
            with servers(kind) as (server,):
                spec = {
                    "scenario": "storm",
                    "urls": [server.url],
                    "origin": server.origin,
                    "keyPrefix": prefix,
                    "clients": clients,
                    "documents": documents,
                    "cookies": cookies,
                    "timeout": 240,
                    "limit": 300,
                }
                return load(spec)

        return run

    def idle_documents(count: int, sockets: int | None = None) -> Callable[[str], Result]:
        def run(kind: str) -> Result:
            with servers(kind, 2, redis=True) as targets:
                prefix = fresh_key(f"open{count}", kind)
                return hold_documents(
                    targets, prefix, count, args.idle_settle, args.idle_window, sockets
                )

        return run

    return {
        "fanout-10": fan("fan10", 10, 10, 20),
        "fanout-50": fan("fan50", 50, 5, 40),
        "sustained": fan("sustained", 20, 20, args.sustained_rate),
        "idle": hold(args.idle, 50, 0),
        "documents": hold(args.documents, 1, 1000),
        "coldjoin": cold,
        "redis-fanout-10": fan("rfan10", 10, 10, 20, procs=2),
        "redis-fanout-50": fan("rfan50", 50, 5, 40, procs=2),
        "redis-idle-1000": idle_documents(1000),
        "redis-idle-10000": idle_documents(10000),
        "redis-idle-10000-hocuspocus": idle_documents(10000, sockets=100),
        "storm": storm(2000, 200, 200),
        "storm-10000": storm(10000, 1000, 1000),
    }


KINDS = {
    "fanout-10": ("daphne", "uvicorn", "floor", "reference"),
    "fanout-50": ("daphne", "uvicorn", "floor", "reference"),
    "sustained": ("daphne", "uvicorn", "reference"),
    "idle": ("daphne", "uvicorn", "floor", "reference"),
    "documents": ("daphne", "uvicorn", "reference"),
    "coldjoin": ("daphne", "uvicorn", "reference"),
    "redis-fanout-10": ("daphne", "uvicorn"),
    "redis-fanout-50": ("daphne", "uvicorn"),
    "redis-idle-1000": ("daphne", "uvicorn"),
    "redis-idle-10000": ("uvicorn", "floor", "reference"),
    "redis-idle-10000-hocuspocus": ("uvicorn",),
    "storm": ("daphne", "uvicorn", "reference"),
    "storm-10000": ("uvicorn", "reference"),
}

ROWS: list[tuple[str, str, str]] = [
    ("fanout-10", "p50", "ms"),
    ("fanout-10", "p95", "ms"),
    ("fanout-10", "p99", "ms"),
    ("fanout-10", "lost", ""),
    ("fanout-50", "p50", "ms"),
    ("fanout-50", "p95", "ms"),
    ("fanout-50", "p99", "ms"),
    ("fanout-50", "lost", ""),
    ("sustained", "deliveriesPerSecond", "/s"),
    ("sustained", "p99", "ms"),
    ("sustained", "lost", ""),
    ("idle", "connected", ""),
    ("idle", "perConnection", "KB"),
    ("idle", "connectSeconds", "s"),
    ("documents", "connected", ""),
    ("documents", "perConnection", "KB"),
    ("coldjoin", "median", "ms"),
    ("redis-fanout-10", "p50", "ms"),
    ("redis-fanout-10", "p99", "ms"),
    ("redis-fanout-10", "crossP50", "ms"),
    ("redis-fanout-10", "crossP99", "ms"),
    ("redis-fanout-10", "lost", ""),
    ("redis-fanout-10", "duplicates", ""),
    ("redis-fanout-50", "p50", "ms"),
    ("redis-fanout-50", "p99", "ms"),
    ("redis-fanout-50", "crossP50", "ms"),
    ("redis-fanout-50", "crossP99", "ms"),
    ("redis-fanout-50", "lost", ""),
    ("redis-fanout-50", "duplicates", ""),
    ("redis-idle-1000", "cpuPercent", "%"),
    ("redis-idle-1000", "redisCommandsPerSecond", "/s"),
    ("redis-idle-1000", "perDocumentKB", "KB"),
    ("redis-idle-1000", "rssPerProcessMB", "MB"),
    ("redis-idle-10000", "cpuPercent", "%"),
    ("redis-idle-10000", "redisCommandsPerSecond", "/s"),
    ("redis-idle-10000", "perDocumentKB", "KB"),
    ("redis-idle-10000", "rssPerProcessMB", "MB"),
    ("redis-idle-10000", "connectSeconds", "s"),
    ("redis-idle-10000", "reconnects", ""),
    ("redis-idle-10000-hocuspocus", "cpuPercent", "%"),
    ("redis-idle-10000-hocuspocus", "redisCommandsPerSecond", "/s"),
    ("redis-idle-10000-hocuspocus", "perDocumentKB", "KB"),
    ("redis-idle-10000-hocuspocus", "rssPerProcessMB", "MB"),
    ("redis-idle-10000-hocuspocus", "connectSeconds", "s"),
    ("redis-idle-10000-hocuspocus", "reconnects", ""),
    ("storm", "seconds", "s"),
    ("storm", "synced", ""),
    ("storm", "dropped", ""),
    ("storm-10000", "seconds", "s"),
    ("storm-10000", "synced", ""),
    ("storm-10000", "dropped", ""),
]


WORST_OF_RUNS = frozenset({"lost", "duplicates", "missingKeysAtEnd", "reconnects", "dropped"})
"""Counts of faults: several runs report their highest, every other figure its median."""


def combined(runs: list[Result]) -> Result:
    """One result from the rounds of a scenario on one server (``--repeat``).

    Rounds alternate between the servers, so a noisy spell on a shared machine hits
    each of them; the median of each figure is reported, the worst of each fault count,
    and every round is kept under ``"runs"``.
    """
    if len(runs) == 1:
        return runs[0]
    done = [run for run in runs if "error" not in run]
    if not done:
        return {"error": runs[-1]["error"], "runs": runs}
    result: Result = {"runs": runs, "failedRuns": len(runs) - len(done)}
    for key, value in done[0].items():
        values = [run[key] for run in done if isinstance(run.get(key), int | float)]
        if isinstance(value, int | float) and len(values) == len(done):
            result[key] = max(values) if key in WORST_OF_RUNS else statistics.median(values)
    return result


def figure(
    results: dict[str, dict[str, Result]], scenario: str, kind: str, key: str
) -> float | None:
    """One figure, or None when that scenario did not run or failed."""
    value = results.get(scenario, {}).get(kind, {}).get(key)
    if value is None:
        return None
    return float(value) / 1024 if key == "perConnection" else float(value)


def table(results: dict[str, dict[str, Result]]) -> str:
    """The results as a Markdown table with the ratios to the reference.

    In ``redis-fanout-*`` rows (two collab processes) the ratio is to the same server
    kind in one process (the ``fanout-*`` row), not to the reference; their ``cross`` figures
    count only deliveries from a writer on the other process. The ``floor`` column is the
    bare relay of ``benchmarks/floor.py`` under uvicorn.
    """
    measured = ("daphne", "uvicorn", "floor")
    lines = [
        "| scenario | figure | daphne | uvicorn | floor | reference "
        "| daphne/ref | uvicorn/ref | floor/ref |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, key, unit in ROWS:
        if scenario not in results:
            continue
        values = [figure(results, scenario, kind, key) for kind in measured]
        reference = figure(results, scenario, "reference", key)
        refs = [reference] * len(measured)
        if scenario.startswith("redis-fanout"):
            one = scenario.removeprefix("redis-")
            refs = [figure(results, one, kind, key) for kind in measured]
            reference = None
        ratios = [
            f"{v / r:.2f}" if v is not None and r else "-"
            for v, r in zip(values, refs, strict=True)
        ]
        cells = ["-" if v is None else f"{v:.1f}" for v in [*values, reference]]
        label = f"{key} ({unit})" if unit else key
        lines.append(f"| {scenario} | {label} | {' | '.join(cells)} | {' | '.join(ratios)} |")
    return "\n".join(lines)


def main() -> None:
    """Parse flags, run the chosen scenarios on every server, print and save the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of fan-out load")
    parser.add_argument("--sustained-rate", type=int, default=100, help="updates/s per writer")
    parser.add_argument("--idle", type=int, default=5000, help="idle connections to hold")
    parser.add_argument("--documents", type=int, default=500, help="documents to open")
    parser.add_argument(
        "--idle-settle", type=float, default=10.0, help="seconds between opening and measuring"
    )
    parser.add_argument(
        "--idle-window", type=float, default=30.0, help="seconds of idle CPU and Redis reading"
    )
    parser.add_argument("--chars", type=int, default=1_000_000, help="cold-join document size")
    parser.add_argument("--reps", type=int, default=3, help="cold joins to time")
    parser.add_argument("--only", nargs="*", help="scenario names to run (default: all)")
    parser.add_argument("--kinds", nargs="*", default=["daphne", "uvicorn", "floor", "reference"])
    parser.add_argument("--profile", action="store_true", help="sample collab with py-spy")
    parser.add_argument(
        "--uvicorn-option",
        action="append",
        default=[],
        help="an option for every uvicorn server, e.g. --uvicorn-option=--ws-ping-interval=30",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of every scenario on every server"
    )
    parser.add_argument(
        "--layer",
        choices=sorted(LAYERS),
        default="pubsub",
        help="channels-redis layer of the two-process scenarios (default: pubsub, as deployed)",
    )
    args = parser.parse_args()
    if args.profile and not (Path(sys.executable).parent / "py-spy").exists():
        sys.exit(f"--profile needs py-spy: {sys.executable} -m pip install py-spy")
    os.environ["COLLAB_BENCH_LAYER"] = LAYERS[args.layer]
    if shutil.which("node") is None:
        sys.exit("node is needed: install Node 20 and run `npm ci --prefix benchmarks`")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"ulimit -n: {hard} (was {soft})", flush=True)
    UVICORN_OPTIONS.extend(args.uvicorn_option)
    ARTIFACTS.mkdir(exist_ok=True)
    fresh_database()
    results: dict[str, dict[str, Result]] = {}
    for name, run in scenarios(args).items():
        if args.only and name not in args.only:
            continue
        if args.profile:
            PROFILE["name"] = name
        runs: dict[str, list[Result]] = {}
        for _ in range(args.repeat):
            for kind in KINDS[name]:
                if kind not in args.kinds:
                    continue
                started = time.monotonic()
                try:
                    result = run(kind)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    result = {"error": str(exc)[-500:]}
                elapsed = time.monotonic() - started
                runs.setdefault(kind, []).append(result)
                print(f"{name} {kind} ({elapsed:.0f} s): {json.dumps(result)}", flush=True)
        results[name] = {kind: combined(kind_runs) for kind, kind_runs in runs.items()}
    (ARTIFACTS / "results.json").write_text(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()

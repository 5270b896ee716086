"""Run a function in a fresh Python process, so that a native crash fails one test.

A stack overflow in native code kills the process it happens in; run in pytest's own
process it would end the whole run instead of failing the test that caused it.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def call_isolated(function: Callable[..., Any], *args: Any, timeout: float = 120) -> Any:
    """``function(*args)`` computed in a child process that uses this test's database.

    Args:
        function: A module-level function; its arguments and result must be JSON.
        args: Its arguments.
        timeout: Seconds the child may take.

    Returns:
        What ``function`` returned.

    Raises:
        AssertionError: The child did not exit cleanly (a signal names the crash).
    """
    target = f"{function.__module__}:{function.__qualname__}"
    database = str(connection.settings_dict["NAME"])
    completed = subprocess.run(
        [sys.executable, "-m", "tests.isolated", target, database, json.dumps(args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        code = completed.returncode
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        raise AssertionError(f"{target} ended with {how}:\n{completed.stderr[-2000:]}")
    return json.loads(completed.stdout)


def main() -> None:
    """The child: set Django up on the parent's database, call the target, print JSON."""
    target, database, args = sys.argv[1:]
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = database
    import django

    django.setup()
    module, name = target.split(":")
    result = getattr(importlib.import_module(module), name)(*json.loads(args))
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()

"""Fixtures of the chart tests that run the commands the chart's pods run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.lib.render import startup_scripts
from tests.lib.render.startup_scripts import Ran

URL_ENV = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"


@pytest.fixture
def run(tmp_path):
    """Run a command of the chart's scripts with `url` as the database URL: in this interpreter
    through the imported module (tests/lib/render/startup_scripts.py), or, to `watch` one that keeps waiting, as
    a process the way its pod runs it, with an `airflow` on PATH that only prints its arguments."""
    fake = tmp_path / "bin" / "airflow"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "airflow $*"\n')
    fake.chmod(0o755)

    def run_command(argv: list[str], url: str, **extra_env: str) -> Ran:
        return startup_scripts.run_command(argv, {URL_ENV: url, **extra_env})

    def watch(argv: list[str], url: str, lines: int, then_quiet_for: float = 0, **extra_env: str) -> list[str]:
        """The first `lines` lines the command prints while it keeps waiting; with `then_quiet_for`,
        also that it says nothing more (and does not end) for that many seconds."""
        environ = {"PATH": run_command.path, URL_ENV: url, **extra_env}
        with subprocess.Popen([sys.executable, str(startup_scripts.SCRIPTS / "pod_commands.py"), *argv], env=environ,
                              stdout=subprocess.PIPE, text=True) as proc:  # fmt: skip
            watchdog = threading.Timer(60, proc.kill)  # a command that never prints must not hang the run
            watchdog.start()
            try:
                seen = [proc.stdout.readline() for _ in range(lines)]
                if then_quiet_for:
                    time.sleep(then_quiet_for)
                    assert proc.poll() is None, "it stopped waiting"
            finally:
                watchdog.cancel()
                proc.kill()
            rest = proc.stdout.read()
        return seen + ([rest] if then_quiet_for else [])

    run_command.path = f"{fake.parent}{os.pathsep}{os.environ['PATH']}"
    run_command.watch = watch
    return run_command


@pytest.fixture
def listening_port():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.fixture
def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the socket is closed

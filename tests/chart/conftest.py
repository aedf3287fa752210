"""Fixtures of the chart tests that run what the chart renders."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

URL_ENV = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"


@pytest.fixture
def run(tmp_path):
    """Run a rendered script with `url` as the database URL; `airflow` on PATH only prints its arguments."""
    fake = tmp_path / "bin" / "airflow"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "airflow $*"\n')
    fake.chmod(0o755)

    def run_script(script: str, url: str, timeout: float = 60, **extra_env: str) -> subprocess.CompletedProcess[str]:
        environ = {"PATH": run_script.path, URL_ENV: url, **extra_env}
        return subprocess.run([sys.executable, "-c", script], env=environ, capture_output=True, text=True,
                              timeout=timeout)  # fmt: skip

    def watch(script: str, url: str, lines: int, then_quiet_for: float = 0, **extra_env: str) -> list[str]:
        """The first `lines` lines the script prints while it keeps waiting; with `then_quiet_for`,
        also that it says nothing more (and does not end) for that many seconds."""
        environ = {"PATH": run_script.path, URL_ENV: url, **extra_env}
        with subprocess.Popen([sys.executable, "-c", script], env=environ, stdout=subprocess.PIPE, text=True) as proc:
            watchdog = threading.Timer(60, proc.kill)  # a script that never prints must not hang the run
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

    run_script.path = f"{fake.parent}{os.pathsep}{os.environ['PATH']}"
    run_script.watch = watch
    return run_script


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

"""hack/images/maven_artifact.py against a local HTTP server: an artifact is written only when both
its pinned SHA-256 and the repository's .sha1 match, and a refusal says which did not."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.lib.paths import REPO

SCRIPT = REPO / "hack" / "images" / "maven_artifact.py"
CONTENT = b"a Maven artifact\n" * 1000


@contextlib.contextmanager
def repository(folder: Path) -> Iterator[str]:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "dist.zip").write_bytes(CONTENT)
    (repo / "dist.zip.sha1").write_text(hashlib.sha1(CONTENT).hexdigest() + "\n")  # noqa: S324 - Maven's checksum
    with repository(repo) as url:
        yield f"{url}/dist.zip", tmp_path / "out.zip"


def run(url: str, dest: Path, sha256: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), url, str(dest), sha256], capture_output=True, text=True, timeout=60)


def test_the_pinned_artifact_is_written(served):
    url, dest = served
    done = run(url, dest, hashlib.sha256(CONTENT).hexdigest())
    assert done.returncode == 0, done.stderr
    assert dest.read_bytes() == CONTENT and not dest.with_name("out.zip.part").exists()


def test_another_sha256_is_refused_and_nothing_is_left(served):
    url, dest = served
    done = run(url, dest, "0" * 64)
    assert done.returncode == 1 and "not the pinned" in done.stderr
    assert not dest.exists() and not dest.with_name("out.zip.part").exists()


def test_a_repository_whose_sha1_differs_is_refused(served, tmp_path):
    url, dest = served
    (tmp_path / "repo" / "dist.zip.sha1").write_text("0" * 40)
    done = run(url, dest, hashlib.sha256(CONTENT).hexdigest())
    assert done.returncode == 1 and "does not match the repository's own .sha1" in done.stderr
    assert not dest.exists()


def test_an_unreachable_repository_is_said_in_one_line(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens once the socket is closed
    done = run(f"http://127.0.0.1:{closed_port}/dist.zip", tmp_path / "out.zip", "0" * 64)
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("could not download http://127.0.0.1:") and "MAVEN_REPOSITORY" in line

"""tests/lib/cluster/token_reach.py, the probe test_rbac_access runs inside a worker pod, against a local
HTTPS server standing in for the API server's authorizer: what it asks, with which token, and what it reports."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.lib.cluster import token_reach
from tests.lib.test_servers.local_api_server import local_api_server

TOKEN = "worker-token"
ASKED: list[tuple[str, str]] = []


class Authorizer(BaseHTTPRequestHandler):
    """401 without the token; 403 for anything in namespace `airflow`; 200 elsewhere."""

    def handle_one(self) -> None:
        ASKED.append((self.command, self.path))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            code = 401
        else:
            code = 403 if self.path.startswith("/api/v1/namespaces/airflow/") else 200
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = do_DELETE = handle_one  # noqa: N815 - http.server's names

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with local_api_server(Authorizer, tmp_path, TOKEN + "\n") as (folder, port):
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "localhost")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(port))
        ASKED.clear()
        yield folder


def test_each_attempt_is_one_request_with_the_pods_token_and_reports_its_status(account: Path):
    answers = token_reach.attempts("airflow", "airflow-scheduler-0", "airflow-fernet-key", "development", account)
    assert answers == {"exec into the pod": 403, "read the pod's log": 403, "delete the pod": 403,
                       "list the pods": 403, "read the Secret": 403, "list pods where tasks run": 200}  # fmt: skip
    assert ("POST", "/api/v1/namespaces/airflow/pods/airflow-scheduler-0/exec?command=true&stdout=true") in ASKED
    # Where the token may delete, nothing is deleted: the API server's dry run.
    assert ("DELETE", "/api/v1/namespaces/airflow/pods/airflow-scheduler-0?dryRun=All") in ASKED


def test_a_wrong_token_is_reported_as_401_not_taken_for_a_refusal(account: Path):
    (account / "token").write_text("another")
    assert set(token_reach.attempts("airflow", "p", "s", "development", account).values()) == {401}


def test_run_as_a_piped_script_it_prints_json_or_its_usage():
    script = Path(token_reach.__file__).read_text()
    usage = subprocess.run([sys.executable, "-", "only-one"], input=script, capture_output=True, text=True)
    assert usage.returncode == 2 and "usage: python - NAMESPACE POD SECRET LAUNCH_NAMESPACE" in usage.stderr

"""The suite's two lanes (tests/lib/suite/lanes.py) on a small suite of its own, run by real pytest-xdist:
groups stay on one worker in order, and a node_exclusive or cluster_lifecycle test starts only after
every lower-ranked test on every worker has ended."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.lib.paths import REPO
from tests.lib.suite.lanes import run_locked_in_background

# The small suite imports the real lanes module: its pytest finds the `tests` package through
# PYTHONPATH (the repository root), as this suite's own pytest does through its `pythonpath` setting.
CONFTEST = """
import json, os, time
import pytest
from tests.lib.suite import lanes

def pytest_configure(config):
    config.addinivalue_line("markers", "node_exclusive: x")
    config.addinivalue_line("markers", "cluster_lifecycle: x")

def group(item):
    return getattr(item.module, "GROUP", item.nodeid.split("::")[0])

def pytest_itemcollected(item):
    lanes.mark_group(item, group(item))

def pytest_collection_modifyitems(items):
    lanes.order(items, group)
    lanes.tag_group_in_nodeid(items)

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if lanes.rank(item) >= lanes.RANK_EXCLUSIVE:
        lanes.wait_for_turn(item)

def pytest_runtest_logfinish(nodeid):
    lanes.record_finished(nodeid)

@pytest.fixture(autouse=True)
def journal(request):
    start = time.time()
    yield
    with open(os.environ["LANES_JOURNAL"], "a") as out:
        out.write(json.dumps({"test": request.node.nodeid.split("@")[0], "start": start, "end": time.time(),
                               "worker": os.environ.get("PYTEST_XDIST_WORKER")}) + "\\n")
"""

MODULES = {
    # Two modules sharing a group ("install"), a slow module of its own, and the two late ranks.
    "test_e2e/test_shared_a.py": 'GROUP = "install"\nimport time\ndef test_a1(): time.sleep(1)\ndef test_a2(): time.sleep(1)\n',
    "test_e2e/test_shared_b.py": 'GROUP = "install"\nimport time\ndef test_b1(): time.sleep(1)\n',
    "test_e2e/test_slow.py": "import time\ndef test_slow(): time.sleep(4)\n",
    "test_e2e/test_tokens.py": "import pytest, time\npytestmark = pytest.mark.node_exclusive\ndef test_t(): time.sleep(0.5)\n",
    "test_e2e/test_lifecycle.py": "import pytest\npytestmark = pytest.mark.cluster_lifecycle\ndef test_l(): pass\n",
}


def test_groups_stay_together_and_exclusive_tests_wait_for_every_other_worker(tmp_path: Path):
    (tmp_path / "conftest.py").write_text(textwrap.dedent(CONFTEST))
    for name, body in MODULES.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(body)
    journal = tmp_path / "journal.jsonl"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist",
                           "loadgroup", "--no-loadscope-reorder", "--rootdir", str(tmp_path), str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "LANES_JOURNAL": str(journal), "HOME": str(tmp_path),
                               "PYTHONPATH": str(REPO)})  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = {r["test"].split("::")[-1]: r for r in map(json.loads, journal.read_text().splitlines())}
    assert set(runs) == {"test_a1", "test_a2", "test_b1", "test_slow", "test_t", "test_l"}
    # The shared group ran on one worker, in file order; the slow module ran beside it on the other.
    assert runs["test_a1"]["worker"] == runs["test_a2"]["worker"] == runs["test_b1"]["worker"]
    assert runs["test_a1"]["end"] <= runs["test_a2"]["start"] <= runs["test_a2"]["end"] <= runs["test_b1"]["start"]
    assert runs["test_slow"]["worker"] != runs["test_a1"]["worker"]
    assert runs["test_slow"]["start"] < runs["test_b1"]["end"], "the two lanes did not overlap"
    # The exclusive test began after every e2e test on both workers ended; the lifecycle one after it.
    others = [r for name, r in runs.items() if name not in ("test_t", "test_l")]
    assert runs["test_t"]["start"] >= max(r["end"] for r in others)
    assert runs["test_l"]["start"] >= runs["test_t"]["end"]


class FakeConfig:
    """What lanes.selects_e2e reads of a pytest config: the root, the args and --ignore."""

    def __init__(self, *args: str, ignore: tuple[str, ...] = ()) -> None:
        self.rootpath, self.args, self._ignore = REPO, [str(REPO / a) for a in args], [str(REPO / i) for i in ignore]

    def getoption(self, name: str, default=None):
        return self._ignore if name == "ignore" else default


def test_the_cluster_is_set_up_in_the_background_only_for_runs_that_take_in_e2e():
    from tests.lib.suite import lanes

    assert lanes.selects_e2e(FakeConfig("tests"))
    assert lanes.selects_e2e(FakeConfig("tests/e2e/test_faults.py::test_x"))
    assert not lanes.selects_e2e(FakeConfig("tests", ignore=("tests/e2e",)))
    assert not lanes.selects_e2e(FakeConfig("tests/chart", "tests/dags"))


def test_the_background_set_up_time_is_read_from_its_log(tmp_path: Path):
    from tests.lib.suite import lanes

    log = tmp_path / "cluster-setup.log"
    assert lanes.background_setup_seconds(log) is None
    log.write_text("cluster: node (...)\nimages: done (airflow 3.1s)\n")
    assert lanes.background_setup_seconds(log) is None  # still running
    log.write_text(log.read_text() + "set-up took 1234 s, exit status 0\n")
    assert lanes.background_setup_seconds(log) == 1234.0


def test_the_background_set_up_lock_is_free_once_its_script_ends_though_its_daemons_run(tmp_path: Path) -> None:
    """hack/cluster/up.sh leaves the cluster's daemons running: they must not keep the set-up lock."""
    lock = tmp_path / "setup.lock"
    script = 'sleep 300 & echo "daemon $!" > "$1"'  # a daemon started by the script outlives it
    proc = run_locked_in_background(lock, script, tmp_path / "setup.log", tmp_path)
    try:
        assert proc.wait(timeout=30) == 0
        with lock.open("a") as handle:
            deadline = time.monotonic() + 10
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    assert time.monotonic() < deadline, "the set-up lock is still held by what the script started"
                    time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)


def test_the_time_an_exclusive_test_waits_at_the_barrier_is_kept_apart(tmp_path: Path, monkeypatch) -> None:
    """So the per-module times (tests/lib/suite/module_times.py) do not charge the other lane's tests to it."""
    import threading
    import uuid
    from types import SimpleNamespace

    from tests.lib.suite import lanes

    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw9")

    def item(nodeid: str, marker: str | None) -> SimpleNamespace:
        return SimpleNamespace(nodeid=nodeid, user_properties=[],
                               get_closest_marker=lambda name: object() if name == marker else None)  # fmt: skip

    other = item("tests/e2e/test_other.py::test_x", None)
    exclusive = item("tests/e2e/test_tokens.py::test_y", lanes.EXCLUSIVE)
    session = SimpleNamespace(items=[other, exclusive])
    exclusive.session = session
    threading.Timer(1.0, lanes.record_finished, [other.nodeid]).start()
    waited = lanes.wait_for_turn(exclusive)
    assert 1.0 <= waited < 15
    assert exclusive.user_properties == [(lanes.WAITED, waited)]

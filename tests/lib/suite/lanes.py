"""Two lanes on one 2-core node: how the suite runs under pytest-xdist (hack/test.sh: `-n 2 --dist
loadgroup --no-loadscope-reorder`), and the same order without it.

The offline tests run beside the e2e suite, and beside the cluster's set-up. The e2e modules run in
turn (E2E_LANES=1, the default), the modules marked `mostly_waiting` in a second lane beside them, or
two at a time (E2E_LANES=2), where much of a module's time is waiting (a task pod sleeping through a
fault, a token expiring, git-sync's next pull). What must not overlap:
- a module and the one sharing its install: each shared profile (tests/lib/installs/shared_installs.py)
  is one group, so one worker runs its modules in turn;
- modules whose checks need the node to themselves (RANK_EXCLUSIVE: they fill the node's CPU on
  purpose) and those that take the cluster down (RANK_LAST): each waits at `wait_for_turn` until every
  test of a lower rank, on any worker, has finished.

Order of the queue (xdist hands out groups in this order as workers free up): the offline tests,
while `start_cluster_setup` brings the cluster up and builds the images in the background; then the
e2e groups, longest first by the last recorded run (module_times.py); then the exclusive modules,
then the cluster lifecycle. Exclusive groups come last, so a worker waiting at the barrier never holds
a test the barrier waits for.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _pytest.nodeid import NodeId

from tests.lib.paths import RECORDED_SUITE_TIMES, USER_CACHE

RANK_OFFLINE, RANK_E2E, RANK_EXCLUSIVE, RANK_LAST = range(4)
# How many e2e modules may run at once. 1 (the default): the e2e modules are one group, run in turn by
# one worker, while the other runs the offline tests. 2: two modules at once. Measured on this 2-core
# node beside a make deploy-dev release, two Airflow installs starting beside a module that runs every
# DAG starved each other's api-server past its 180 s rollout: the node's CPU, not waiting, bounds the
# e2e suite, so one lane is the default (see the README's test times).
E2E_LANES = int(os.environ.get("E2E_LANES", "1"))
EXCLUSIVE = "node_exclusive"  # marker: fills or taints the node on purpose; runs when no other e2e test does
# marker: a module whose time is mostly waiting (the faults' task pods working through a fault, adoption
# rounds): with one e2e lane and two workers it is a group of its own, run beside the e2e group. The node
# sat at 10-20 % CPU through test_faults' waits, measured on the 2-core node.
WAITING = "mostly_waiting"
LAST = "cluster_lifecycle"  # marker: takes the local cluster down and up again; runs after everything
SETUP_LOCK = USER_CACHE / "e2e-setup.lock"
BARRIER_TIMEOUT_S = 3 * 3600


def e2e_group(item: pytest.Item) -> str:
    """The xdist group of an e2e test of rank RANK_E2E with one e2e lane: the waiting modules' or the rest's."""
    return "e2e-waiting" if item.get_closest_marker(WAITING) is not None else "e2e"


def rank(item: pytest.Item) -> int:
    if item.get_closest_marker(LAST) is not None:
        return RANK_LAST
    if item.get_closest_marker(EXCLUSIVE) is not None:
        return RANK_EXCLUSIVE
    return RANK_E2E if item.nodeid.startswith("tests/e2e/") else RANK_OFFLINE


def recorded_seconds() -> dict[str, float]:
    """Seconds per module in the last recorded whole run (warm if there is one), for the order."""
    for kind in ("warm", "cold"):
        path = RECORDED_SUITE_TIMES / f"{kind}.json"
        if path.exists():
            return {m: v["seconds"] for m, v in json.loads(path.read_text())["modules"].items()}
    return {}


def mark_group(item: pytest.Item, group: str) -> None:
    """Put `item` in xdist group `group` (its tests stay on one worker, in order). Called as each item
    is collected, before pytest-xdist's own collection hook reads the marks."""
    item.add_marker(pytest.mark.xdist_group(group))


def tag_group_in_nodeid(items: list[pytest.Item]) -> None:
    """In a loadgroup worker, end each grouped item's node id with `@<group>`, which is how the
    controller's LoadGroupScheduling tells groups apart. pytest-xdist 3.8 (the newest) does this by
    setting `item._nodeid`, which pytest 9 no longer reads (a node id is the NodeId in `item._id`), so
    without this every test would be a group of its own."""
    if not os.environ.get("PYTEST_XDIST_WORKER") or not items or not items[0].config.getvalue("loadgroup"):
        return
    for item in items:
        mark = item.get_closest_marker("xdist_group")
        if mark is not None and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{mark.args[0]}")


def order(items: list[pytest.Item], group_of: Callable[[pytest.Item], str],
          together: Callable[[pytest.Item], str] | None = None) -> None:  # fmt: skip
    """Sort `items` in place into the queue order above; `group_of(item)` names its xdist group. Within
    a group, items for which `together(item)` is the same (their shared install) stay next to each other."""
    seconds = recorded_seconds()
    modules: dict[str, set[str]] = {}
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        group = group_of(item)
        modules.setdefault(group, set()).add(item.nodeid.split("::", 1)[0])
        first.setdefault(group, index)
        if together is not None:
            first.setdefault(f"{group}\0{together(item)}", index)
    cost = {group: sum(seconds.get(m, 0.0) for m in found) for group, found in modules.items()}

    def key(item: pytest.Item) -> tuple[int, float, int, int]:
        group = group_of(item)
        inner = first[f"{group}\0{together(item)}"] if together is not None else 0
        return rank(item), -cost[group] if rank(item) == RANK_E2E else 0.0, first[group], inner

    items.sort(key=key)


# --- across workers -----------------------------------------------------------------------------


def run_dir() -> Path | None:
    """A folder shared by this run's workers, or None when the run has no workers (no xdist)."""
    uid = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not uid:
        return None
    path = Path(tempfile.gettempdir()) / "airflow-on-k8s-lanes" / uid
    path.mkdir(parents=True, exist_ok=True)
    return path


def record_finished(nodeid: str) -> None:
    """Note that test `nodeid` finished (passed, failed or skipped), for the other workers' barriers."""
    folder = run_dir()
    if folder is not None:
        with (folder / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.done").open("a") as done:
            done.write(nodeid + "\n")


WAITED = "waited_for_turn_s"  # user property of a test: seconds its set-up spent at the barrier


def wait_for_turn(item: pytest.Item) -> float:
    """Block until every test ranked below `item` has finished on every worker; return the seconds
    waited, also kept as the test's WAITED user property (the suite's per-module times leave it out:
    it is the other lane's time)."""
    folder = run_dir()
    if folder is None:
        return 0.0  # one process: the order alone puts it after them
    mine = rank(item)
    before = {i.nodeid for i in item.session.items if rank(i) < mine}
    began = time.monotonic()
    deadline = began + BARRIER_TIMEOUT_S
    while time.monotonic() < deadline:
        done = set()
        for path in folder.glob("*.done"):
            done.update(path.read_text().splitlines())
        if before <= done:
            waited = time.monotonic() - began
            item.user_properties.append((WAITED, waited))
            return waited
        time.sleep(5)
    pytest.fail(f"{len(before - done)} test(s) ranked before {item.nodeid} did not finish within {BARRIER_TIMEOUT_S} s")


def selects_e2e(config: pytest.Config) -> bool:
    """Whether the run's paths take in tests/e2e (a -k or -m may still leave it all out)."""
    e2e = (Path(str(config.rootpath)) / "tests" / "e2e").resolve()
    ignored = {Path(p).resolve() for p in config.getoption("ignore") or []}
    if any(e2e == p or e2e.is_relative_to(p) for p in ignored):
        return False
    paths = [Path(a.split("::", 1)[0]).resolve() for a in config.args] or [Path(str(config.rootpath))]
    return any(e2e.is_relative_to(p) or p.is_relative_to(e2e) for p in paths)


SETUP_DONE = re.compile(r"^set-up took (\d+) s, exit status (\d+)$", re.MULTILINE)


def background_setup_seconds(log: Path) -> float | None:
    """How long `start_cluster_setup`'s work took, from its log, once it has ended."""
    found = SETUP_DONE.findall(log.read_text()) if log.exists() else []
    return float(found[-1][0]) if found else None


def start_cluster_setup(config: pytest.Config, log: Path) -> subprocess.Popen | None:
    """In the background, under the set-up lock: `make cluster-up`, then `make images` where that brought
    up the local real node, while the workers run the offline tests. The e2e cluster fixture takes the
    lock after it, finds both done, and says why if they failed (it runs them again itself). Nothing
    starts where the run has no e2e test or a cluster is named (KUBECONFIG, --kubeconfig)."""
    if os.environ.get("KUBECONFIG") or config.getoption("kubeconfig", default=None) or not selects_e2e(config):
        return None
    repo = Path(str(config.rootpath))
    log.parent.mkdir(parents=True, exist_ok=True)
    SETUP_LOCK.parent.mkdir(parents=True, exist_ok=True)
    script = ('hack/cluster/up.sh > "$1" 2>&1 && { ! grep -q "^cluster: node" "$1" || hack/images/build.sh >> "$1" 2>&1; }; '
              'status=$?; echo "set-up took ${SECONDS} s, exit status ${status}" >> "$1"; exit "${status}"')
    return run_locked_in_background(SETUP_LOCK, script, log, repo)


def run_locked_in_background(lock: Path, script: str, log: Path, cwd: Path) -> subprocess.Popen:
    """`bash -c script setup log` in its own session, holding `lock` until the script ends.

    `flock --close`: the script runs without the lock's file descriptor. The cluster's daemons that
    hack/cluster/up.sh starts outlive it, and with the descriptor inherited they held the lock as long
    as the cluster ran: the e2e fixture waiting for it hung the whole run (a CI run killed at 90 min)."""
    with log.open("w") as out:
        return subprocess.Popen(["flock", "--close", str(lock), "bash", "-c", script, "setup", str(log)], cwd=cwd,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


@contextlib.contextmanager
def setup_lock() -> Iterator[None]:
    """One worker at a time brings the cluster up and builds the images; the next finds them ready."""
    SETUP_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with SETUP_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

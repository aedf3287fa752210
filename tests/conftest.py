"""Root fixtures shared by every test area."""

from __future__ import annotations

import pytest

from tests.lib.cluster import dev_release
from tests.lib.paths import ARTIFACTS
from tests.lib.suite import lanes
from tests.lib.suite.module_times import RUN as SUITE_TIMES

# --- where the run's time goes (tests/lib/suite/module_times.py) --------------------------------


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


SETUP_LOG = ARTIFACTS / "cluster-setup.log"


def pytest_sessionstart(session: pytest.Session) -> None:
    # The controller (or the one process) starts the cluster's set-up while the offline tests run.
    if not is_xdist_worker(session.config) and not session.config.option.collectonly:
        SETUP_LOG.unlink(missing_ok=True)
        lanes.start_cluster_setup(session.config, SETUP_LOG)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # In a pytest-xdist run the controller sees every worker's reports: it alone keeps the times.
    # A set-up that waited at the lanes' barrier spent that time on the other lane's tests.
    waited = dict(report.user_properties).get(lanes.WAITED, 0.0) if report.when == "setup" else 0.0
    SUITE_TIMES.add(report.nodeid, report.when, max(0.0, report.duration - waited), report.outcome)


def pytest_runtest_logfinish(nodeid: str) -> None:
    lanes.record_finished(nodeid)  # for the other workers' barriers (tests/lib/suite/lanes.py)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """A pytest-xdist worker ended: take the cluster set-up time it measured."""
    seconds = getattr(node, "workeroutput", {}).get("cluster_setup_s")
    if seconds is not None:
        SUITE_TIMES.setup_s = max(SUITE_TIMES.setup_s or 0.0, seconds)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not session.config.option.collectonly and not is_xdist_worker(session.config):
        background = lanes.background_setup_seconds(SETUP_LOG)
        if background is not None:
            SUITE_TIMES.setup_s = max(SUITE_TIMES.setup_s or 0.0, background)
        SUITE_TIMES.record(int(exitstatus))
        # The user's dev release, paused where the e2e tests needed its room (tests/lib/cluster/dev_release.py).
        if restored := dev_release.restore():
            print(f"\ne2e: brought the make deploy-dev release back: {', '.join(restored)}", flush=True)

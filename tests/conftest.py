"""Root fixtures shared by every test area."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Make `tests.lib` importable as `lib` from any test folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))



# --- where the run's time goes (lib/suite_times.py) ---------------------------------------------

from lib.suite_times import RUN as SUITE_TIMES  # noqa: E402 (after the sys.path entry above)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    SUITE_TIMES.add(report.nodeid, report.when, report.duration, report.outcome)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not session.config.option.collectonly:
        SUITE_TIMES.record(int(exitstatus))

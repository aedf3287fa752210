"""The fault report: runs the e2e tests that break Airflow on purpose (tests/e2e/test_faults.py,
test_task_tokens.py, test_broken_dags.py) on the real node and returns the rows they record in
test-artifacts/faults.json: each fault, what was done, what happened, what was lost.
"""

from __future__ import annotations

import json

from tests.lib.paths import FAULT_REPORT as REPORT

from .suites import last_line, run_pytest

MODULES = ("tests/e2e/test_faults.py", "tests/e2e/test_task_tokens.py", "tests/e2e/test_broken_dags.py")


def recorded_rows() -> list[dict]:
    """The report's rows, by fault; none when no test recorded one."""
    rows = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    return sorted(rows.values(), key=lambda row: row["fault"])


def measure() -> list[dict]:
    REPORT.unlink(missing_ok=True)
    summary = last_line(run_pytest(MODULES))
    rows = recorded_rows()
    if not rows:
        return [{"fault": "(none recorded)", "done": " ".join(MODULES), "happened": summary, "lost": "?"}]
    return [*rows, {"fault": "(tests)", "done": " ".join(MODULES), "happened": summary, "lost": ""}]

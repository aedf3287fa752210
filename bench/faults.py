"""The fault report: runs the e2e tests that break Airflow on purpose (tests/e2e/test_faults.py,
test_task_tokens.py, test_broken_dags.py) on the real node and returns the rows they record in
test-artifacts/faults.json: each fault, what was done, what happened, what was lost.
"""

from __future__ import annotations

import subprocess
import sys

from lib.fault_report import REPORT, read
from lib.paths import REPO

MODULES = ("tests/e2e/test_faults.py", "tests/e2e/test_task_tokens.py", "tests/e2e/test_broken_dags.py")


def measure() -> list[dict]:
    REPORT.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *MODULES],
                          cwd=REPO, capture_output=True, text=True)  # fmt: skip
    rows = sorted(read().values(), key=lambda row: row["fault"])
    if not rows:
        summary = (proc.stdout.strip().splitlines() or ["no output"])[-1]
        return [{"fault": "(none recorded)", "done": " ".join(MODULES), "happened": summary, "lost": "?"}]
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    return [*rows, {"fault": "(tests)", "done": " ".join(MODULES), "happened": summary, "lost": ""}]

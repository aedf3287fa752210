"""The fault report: one row per fault the e2e tests inflict (what was done, what happened, what was
lost), kept in paths.FAULT_REPORT (test-artifacts/faults.json) for CI's artifacts and printed by
`make bench`.

Rows are recorded before a test asserts, so a fault that went wrong is reported as it went.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.lib.paths import FAULT_REPORT as REPORT


def record(fault: str, done: str, happened: str, lost: list[str], path: Path = REPORT) -> None:
    """Add or replace the row of `fault`; `lost` lists what is gone (empty: nothing)."""
    rows = read(path)
    rows[fault] = {"fault": fault, "done": done, "happened": happened, "lost": "; ".join(lost) or "nothing"}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=2) + "\n")


def read(path: Path = REPORT) -> dict[str, dict[str, str]]:
    return json.loads(path.read_text()) if path.exists() else {}

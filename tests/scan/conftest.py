"""The conformance and security gates: collect one pass/fail per (row, check) and print the table.

A gate module names its column with a module-level `SCAN_CHECK = "<column>"`. The row is the
`scenario` parameter's name (a tests.lib.render.helm_template.Scenario), or the `row` parameter for rows that are not a
values scenario (the DAG pods, the wrong-values corpus). A cell holding several tests (one per
Kubernetes version, say) passes only if all of them pass.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

COLUMNS = ("schema", "pss", "checkov", "rbac", "secrets", "rejected")
_cell_of: dict[str, tuple[str, str]] = {}  # nodeid -> (row, column)
_outcomes: dict[tuple[str, str], list[str]] = defaultdict(list)
_rows: list[str] = []


def _row(item: pytest.Item) -> str | None:
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "scenario" in params:
        return params["scenario"].name
    return params.get("row")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        column = getattr(getattr(item, "module", None), "SCAN_CHECK", None)
        row = _row(item)
        if column and row:
            _cell_of[item.nodeid] = (row, column)
            if row not in _rows:
                _rows.append(row)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    cell = _cell_of.get(report.nodeid)
    if cell is None:
        return
    if report.when == "call" or report.outcome != "passed":  # setup errors and skips count too
        _outcomes[cell].append("skipped" if report.skipped else report.outcome)


def _cell_text(outcomes: list[str]) -> str:
    if not outcomes:
        return "-"
    failed = sum(o == "failed" for o in outcomes)
    if failed:
        return f"FAIL {failed}/{len(outcomes)}" if len(outcomes) > 1 else "FAIL"
    if all(o == "skipped" for o in outcomes):
        return "skip"
    return "pass"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _outcomes:
        return
    columns = [c for c in COLUMNS if any(col == c for _, col in _outcomes)]
    rows = [r for r in _rows if any(row == r for row, _ in _outcomes)]
    width = max(len(r) for r in rows + ["scenario"])
    terminalreporter.section("conformance and security gates (scenario x check)")
    terminalreporter.write_line(f"{'scenario':<{width}}  " + "  ".join(f"{c:<9}" for c in columns))
    for row in rows:
        cells = [f"{_cell_text(_outcomes.get((row, c), [])):<9}" for c in columns]
        terminalreporter.write_line(f"{row:<{width}}  " + "  ".join(cells))
    terminalreporter.write_line("pass: every test of the cell passed; FAIL n/m: n of its m tests failed; "
                                "skip: not applicable here; -: not checked for this row")

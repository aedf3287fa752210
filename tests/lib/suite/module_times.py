"""Where a test run's time goes: seconds and tests per module (set-up, call and tear-down summed,
so a module's shared install counts where it is paid), written when the run ends.

paths.SUITE_TIMES (test-artifacts/suite-times.json) holds the run; paths.RECORDED_SUITE_TIMES in the
user's cache keeps the last warm and the last cold run (one that built the cluster's binaries or the
images: its cluster set-up took over COLD_SETUP_S) for `make bench`'s suites table (bench/suites.py),
since a whole run is too long to repeat there.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any

from tests.lib.paths import RECORDED_SUITE_TIMES, SUITE_TIMES

COLD_SETUP_S = 300  # a warm cluster-up plus an images check takes about a minute; any build takes far longer


class SuiteTimes:
    def __init__(self) -> None:
        self.started = time.time()
        self.seconds: dict[str, float] = defaultdict(float)
        self.tests: dict[str, set[str]] = defaultdict(set)
        self.outcomes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.setup_s: float | None = None  # the e2e cluster fixture's: cluster-up plus make images

    def note_setup(self, config, seconds: float) -> None:
        """The e2e cluster fixture's set-up time; a pytest-xdist worker sends it to the controller."""
        self.setup_s = max(self.setup_s or 0.0, seconds)
        if hasattr(config, "workeroutput"):
            config.workeroutput["cluster_setup_s"] = self.setup_s

    def add(self, nodeid: str, when: str, duration: float, outcome: str) -> None:
        module = nodeid.split("::", 1)[0]
        self.seconds[module] += duration
        self.tests[module].add(nodeid)
        if when == "call" or (when == "setup" and outcome != "passed"):
            self.outcomes[module][outcome] += 1

    def record(self, exitstatus: int) -> dict[str, Any]:
        wall = time.time() - self.started
        run = {
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "wall_s": round(wall, 1),
            "exit_status": exitstatus,
            "cluster_setup_s": None if self.setup_s is None else round(self.setup_s, 1),
            "kind": "cold" if (self.setup_s or 0) > COLD_SETUP_S else "warm",
            "modules": {m: {"tests": len(self.tests[m]), "seconds": round(self.seconds[m], 1),
                            "outcomes": dict(self.outcomes[m])} for m in sorted(self.seconds)},  # fmt: skip
        }
        SUITE_TIMES.parent.mkdir(parents=True, exist_ok=True)
        SUITE_TIMES.write_text(json.dumps(run, indent=2) + "\n")
        # Only whole runs of the e2e suite are worth keeping for the table.
        if any(m.startswith("tests/e2e/") for m in run["modules"]) and len(run["modules"]) > 20:
            RECORDED_SUITE_TIMES.mkdir(parents=True, exist_ok=True)
            (RECORDED_SUITE_TIMES / f"{run['kind']}.json").write_text(json.dumps(run, indent=2) + "\n")
        return run


# The running session's: tests/conftest.py feeds it, the e2e cluster fixture sets its setup_s.
RUN = SuiteTimes()

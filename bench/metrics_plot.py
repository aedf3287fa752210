"""The fan-out run of tests/e2e/test_prod_metrics.py drawn from Prometheus: its tasks scheduled
(waiting for an executor slot), queued, running and finished over time (test-artifacts/metrics-load.json), as a PNG beside results.json."""

from __future__ import annotations

import json
from pathlib import Path

from tests.lib.paths import ARTIFACTS

SERIES = ARTIFACTS / "metrics-load.json"
PLOT = Path(__file__).resolve().parent / "load-metrics.png"


def draw() -> Path | None:
    """Write the plot; None when the test recorded nothing."""
    if not SERIES.exists():
        return None
    import matplotlib  # noqa: PLC0415  (only `make bench` needs it)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    run = json.loads(SERIES.read_text())
    figure, axes = plt.subplots(figsize=(9, 4.5), dpi=100)
    for name, style in (("scheduled", "-."), ("queued", ":"), ("running", "-"), ("finished", "--")):
        points = run["series"].get(name) or []
        axes.step([t for t, _ in points], [v for _, v in points], style, where="post", label=name)
    axes.set_xlabel("seconds since the run was triggered")
    axes.set_ylabel("tasks")
    axes.set_title(f"{run['dag_id']}: {run['items']} mapped pod tasks ({run['tasks']} in all), from Prometheus "
                   f"every {run['step_s']} s", fontsize=10)  # fmt: skip
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(PLOT)
    plt.close(figure)
    return PLOT

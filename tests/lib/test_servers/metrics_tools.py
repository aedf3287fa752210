"""What the metrics tests run on this host, each built or fetched once by hack/images' scripts:
the statsd-exporter and promtool (their Go modules) and the Prometheus Operator's
CustomResourceDefinitions (its Go module)."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from tests.lib.paths import REPO

STATSD_EXPORTER_IMAGE = "airflow-on-k8s/statsd-exporter:v0.31.0"
PROMETHEUS_IMAGE = "airflow-on-k8s/prometheus:v3.16.0"


def _script(*args: str) -> str:
    """Run a hack/images script; its stdout (a path), or an error carrying what it said."""
    proc = subprocess.run([str(REPO / "hack" / "images" / args[0]), *args[1:]], capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"hack/images/{' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return proc.stdout.strip()


@functools.cache
def statsd_exporter() -> Path:
    _script("go-binary.sh", "statsd_exporter")
    return Path(_script("go-binary.sh", "statsd_exporter", "--print-path"))


@functools.cache
def promtool() -> Path:
    _script("go-binary.sh", "promtool")
    return Path(_script("go-binary.sh", "promtool", "--print-path"))


@functools.cache
def operator_crds() -> Path:
    """The folder holding the ServiceMonitor and PrometheusRule CRDs (monitoring.coreos.com_*.yaml)."""
    return Path(_script("prometheus-operator-crds.sh", "--print-path"))

"""checkov's Kubernetes checks find nothing to fail in any scenario or DAG pod.

All scenarios are written to one temporary tree (one folder each) and scanned by a single checkov run,
because checkov's start-up dominates its cost. Skipped checks, each with its reason, are in
hack/checkov/config.yaml. A missing checkov is a failure, not a skip: CI installs it with
hack/install-checkov.sh.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.lib.conformance import checkov
from tests.lib.conformance.scan_targets import (
    DAG_PODS_ROW,
    SCENARIOS,
    as_applied,
    chart_objects,
    dag_pod_objects,
    with_embedded_pods,
)
from tests.lib.render.helm_template import HelmError

SCAN_CHECK = "checkov"


def _write(folder: Path, labelled_objects) -> None:
    folder.mkdir()
    # One document per file, named after its object (or DAG task), so a failure names what to fix.
    for i, (label, obj) in enumerate(labelled_objects):
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-")
        (folder / f"{i:03d}-{name}.yaml").write_text(yaml.safe_dump(as_applied(obj), sort_keys=False))


@pytest.fixture(scope="module")
def checkov_results(tmp_path_factory) -> dict[str, checkov.FolderResult]:
    root = tmp_path_factory.mktemp("checkov")
    for scenario in SCENARIOS:
        try:
            objects = chart_objects(scenario)
        except HelmError:
            continue  # the scenario's own test reports helm's error
        _write(root / scenario.name, with_embedded_pods(objects))
    _write(root / DAG_PODS_ROW, dag_pod_objects())
    return checkov.run(root)


def _assert_clean(result: checkov.FolderResult | None, what: str) -> None:
    assert result is not None and result.passed > 0, f"checkov evaluated no check on {what}"
    assert not result.failed, f"checkov failures in {what}:\n" + "\n".join(sorted(result.failed))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_chart_passes_checkov(scenario, checkov_results):
    chart_objects(scenario)  # a scenario helm refuses fails here with helm's message
    _assert_clean(checkov_results.get(scenario.name), scenario.name)


@pytest.mark.parametrize("row", [DAG_PODS_ROW])
def test_dag_pods_pass_checkov(row, checkov_results):
    _assert_clean(checkov_results.get(row), "the DAG pods")

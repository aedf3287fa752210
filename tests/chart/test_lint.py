"""`helm lint --strict` passes on Helm 3 and Helm 4 for the default, dev and prod values."""

from __future__ import annotations

import subprocess

import pytest

from tests.lib.paths import CHART
from tests.lib.render import scenarios
from tests.lib.render.helm_template import Scenario
from tests.lib.tools import HELM_MAJORS, helm

LINTED = [scenarios.DEFAULT, scenarios.DEV, scenarios.PROD]


@pytest.mark.parametrize("helm_major", HELM_MAJORS, ids=lambda m: f"helm{m}")
@pytest.mark.parametrize("scenario", LINTED, ids=lambda s: s.name)
def test_helm_lint_strict_passes(scenario: Scenario, helm_major: int):
    assert not scenario.values, "lint scenarios are values files only; inline values are not passed to lint"
    cmd = [str(helm(helm_major)), "lint", "--strict", str(CHART)]
    for values_file in scenario.files:
        cmd += ["--values", str(values_file)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}"

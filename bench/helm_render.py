"""`helm template` wall time per values scenario, on Helm 3 and Helm 4 (the real binaries)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from lib import scenarios, tools
from lib.paths import CHART
from lib.render import NAMESPACE, RELEASE

from .stats import time_command


def helm_template_cmd(helm: Path, scenario, inline: Path) -> list[str]:
    cmd = [str(helm), "template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    for f in scenario.files:
        cmd += ["--values", str(f)]
    return cmd + ["--values", str(inline)]


def measure(runs: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in scenarios.ALL:
            inline = Path(tmp) / f"{scenario.name}.yaml"
            inline.write_text(yaml.safe_dump(scenario.values))
            for major in tools.HELM_MAJORS:
                helm = tools.helm(major)
                timing = time_command(helm_template_cmd(helm, scenario, inline), runs)
                rows.append({"scenario": scenario.name, "helm": major, **timing})
            # Helm's own floor: rendering nothing but printing its version.
        for major in tools.HELM_MAJORS:
            floor = time_command([str(tools.helm(major)), "version", "--short"], runs)
            rows.append({"scenario": "(helm version: process floor)", "helm": major, **floor})
    return rows

"""`helm template` wall time per values scenario, on Helm 3 and Helm 4 (the real binaries)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from tests.lib import tools
from tests.lib.render import scenarios
from tests.lib.render.helm_template import template_command

from .stats import time_command


def measure(runs: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in scenarios.ALL:
            inline = Path(tmp) / f"{scenario.name}.yaml"
            inline.write_text(yaml.safe_dump(scenario.values))
            for major in tools.HELM_MAJORS:
                timing = time_command(template_command(scenario.files, inline, major), runs)
                rows.append({"scenario": scenario.name, "helm": major, **timing})
        # Helm's own floor: rendering nothing but printing its version.
        for major in tools.HELM_MAJORS:
            floor = time_command([str(tools.helm(major)), "version", "--short"], runs)
            rows.append({"scenario": "(helm version: process floor)", "helm": major, **floor})
    return rows

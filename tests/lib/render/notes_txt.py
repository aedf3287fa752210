"""Render the chart's NOTES.txt with the real helm binary.

`helm template` never renders NOTES.txt and `helm install --dry-run` needs a cluster, so this
copies the chart to a temporary folder with one extra template that passes NOTES.txt through
`tpl` into a ConfigMap, renders only that template, and returns the text. Cached per scenario.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from tests.lib import tools
from tests.lib.paths import CHART
from tests.lib.render.helm_template import NAMESPACE, RELEASE, Scenario

_WRAPPER = """apiVersion: v1
kind: ConfigMap
metadata:
  name: notes
data:
  notes: |
    {{- tpl (.Files.Get "NOTES.txt") . | nindent 4 }}
"""


@functools.cache
def render_notes(scenario: Scenario) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        chart = Path(tmp) / "airflow"
        shutil.copytree(CHART, chart)
        # .Files cannot read templates/, so the copy also sits at the chart root.
        shutil.copy(chart / "templates" / "NOTES.txt", chart / "NOTES.txt")
        (chart / "templates" / "zz-notes-as-configmap.yaml").write_text(_WRAPPER)
        values = Path(tmp) / "inline.yaml"
        values.write_text(yaml.safe_dump(scenario.values))
        cmd = [str(tools.helm(3)), "template", RELEASE, str(chart), "--namespace", NAMESPACE,
               "--show-only", "templates/zz-notes-as-configmap.yaml"]
        for f in scenario.files:
            cmd += ["--values", str(f)]
        cmd += ["--values", str(values), *(f"--api-versions={api}" for api in scenario.api_versions)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    return yaml.safe_load(proc.stdout)["data"]["notes"]

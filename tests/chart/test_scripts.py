"""The chart's scripts (files/scripts) as the chart ships and calls them.

They travel in the `<release>-scripts` ConfigMap; every container that runs one mounts them, each
file by subPath, at one folder and calls `python <folder>/pod_commands.py <command> --flags` with
flags the module's own parser accepts; a change to a script rolls the pods that run them; and no
template holds their code any more (what each command does: test_startup, test_database_tls,
test_job_liveness, test_jwt_keys).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.lib import tools
from tests.lib.conformance.pod_specs_in_manifests import pod_specs
from tests.lib.paths import CHART
from tests.lib.render import scenarios
from tests.lib.render.helm_template import RELEASE, Rendered, parse_manifests, render
from tests.lib.render.startup_scripts import ENTRY, MOUNTED, SCRIPTS, pod_commands

ALL_SCENARIOS = scenarios.ALL + scenarios.DETAIL_SCENARIOS
CONFIG_MAP = "airflow-scripts"
PROBES = ("startupProbe", "livenessProbe", "readinessProbe")
# What the project counts as a line of Python or shell in a template: at most 10 in any template file.
CODE_LINE = re.compile(r"^\s*(import |from [a-z_.]+ import |def |for .* in .*:|if .*:\s*$|try:|except|print\(|sys\.exit)")
MAX_CODE_LINES = 10
# Each pod that runs a script, and the command it calls, in the default values (jwt.keys adds jwt-keyset).
DEFAULT_CALLS = {
    "Deployment/airflow-api-server/wait-for-migrations": "wait-for-migrations",
    "Deployment/airflow-scheduler/own-worker-pods": "own-worker-pods",
    "Deployment/airflow-scheduler/wait-for-migrations": "wait-for-migrations",
    "Deployment/airflow-dag-processor/wait-for-migrations": "wait-for-migrations",
    "Deployment/airflow-dag-processor/dag-processor livenessProbe": "job-alive",
    "Deployment/airflow-triggerer/wait-for-migrations": "wait-for-migrations",
    "Deployment/airflow-triggerer/triggerer livenessProbe": "job-alive",
    "Job/airflow-run-migrations/run-migrations": "migrate",
}
SCRIPT_NAMES = sorted(path.name for path in SCRIPTS.glob("*.py"))


def script_calls(rendered: Rendered) -> dict[str, tuple[list[str], dict[str, Any], Any]]:
    """`<pod origin>/<container>[ <probe>]` -> (what it runs, the container, the pod) for every call
    of pod_commands.py."""
    found = {}
    for pod in pod_specs(rendered.objects):
        for container in (pod.spec.get("initContainers") or []) + pod.spec["containers"]:
            runs = {"": (container.get("command") or []) + (container.get("args") or [])}
            runs |= {f" {probe}": (container.get(probe, {}).get("exec") or {}).get("command") or [] for probe in PROBES}
            for where, args in runs.items():
                if ENTRY in args:
                    found[f"{pod.origin}/{container['name']}{where}"] = (args, container, pod)
    return found


def script_mounts(container: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in container.get("volumeMounts") or [] if m["name"] == "scripts"]


class TestShipped:
    def test_the_configmap_holds_the_scripts_as_the_chart_has_them(self):
        data = render(scenarios.DEFAULT).get("ConfigMap", CONFIG_MAP)["data"]
        # Helm trims each manifest's end, so the last file may lose its final line break: nothing to Python.
        assert {name: text.rstrip("\n") for name, text in data.items()} == {
            name: (SCRIPTS / name).read_text().rstrip("\n") for name in SCRIPT_NAMES}
        assert "pod_commands.py" in data

    def test_they_run_as_a_file_from_anywhere_with_no_pythonpath(self, tmp_path):
        # As a pod runs them: the file's folder on sys.path is how the modules find each other.
        done = subprocess.run([sys.executable, str(SCRIPTS / "pod_commands.py"), "--help"], cwd=tmp_path,
                              env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0 and "wait-for-migrations" in done.stdout, done.stderr


class TestCalled:
    def test_each_pod_calls_its_command(self):
        calls = script_calls(render(scenarios.DEFAULT))
        assert {where: args[2] for where, (args, _, _) in calls.items()} == DEFAULT_CALLS
        keyed = script_calls(render(scenarios.JWT_KEYS))
        assert {where: args[2] for where, (args, _, _) in keyed.items() if where not in DEFAULT_CALLS} == {
            "Deployment/airflow-api-server/jwt-keyset": "jwt-keyset", "Deployment/airflow-scheduler/jwt-keyset": "jwt-keyset"}

    @pytest.mark.parametrize("scenario", ALL_SCENARIOS, ids=lambda s: s.name)
    def test_every_call_parses_and_its_container_mounts_the_scripts(self, scenario):
        rendered = render(scenario)
        calls = script_calls(rendered)
        assert calls, scenario.name
        for where, (args, container, pod) in calls.items():
            assert args[:2] == ["python", ENTRY], where
            parsed = pod_commands.parser().parse_args(args[2:])  # argparse exits 2 on flags it does not know
            assert parsed.command == args[2], where
            assert script_mounts(container) == [
                {"name": "scripts", "mountPath": f"{MOUNTED}/{name}", "subPath": name, "readOnly": True}
                for name in SCRIPT_NAMES], where  # fmt: skip
            volume = {v["name"]: v for v in pod.spec["volumes"]}["scripts"]
            assert volume == {"name": "scripts", "configMap": {"name": CONFIG_MAP}}, where
            assert pod.metadata.get("annotations", {}).get("checksum/scripts"), where
        assert rendered.get("ConfigMap", CONFIG_MAP)

    @pytest.mark.parametrize("scenario", [scenarios.DEFAULT, scenarios.JWT_KEYS], ids=lambda s: s.name)
    def test_no_other_container_mounts_them(self, scenario):
        calling = {where.split(" ")[0] for where in script_calls(render(scenario))}
        for pod in pod_specs(render(scenario).objects):
            for container in (pod.spec.get("initContainers") or []) + pod.spec["containers"]:
                where = f"{pod.origin}/{container['name']}"
                assert bool(script_mounts(container)) == (where in calling), where

    def test_the_migration_job_reads_them_from_an_ordinary_release_object(self):
        # The Job is a post-install/post-upgrade hook: Helm creates the ConfigMap before it runs.
        rendered = render(scenarios.DEFAULT)
        assert "helm.sh/hook" not in (rendered.get("ConfigMap", CONFIG_MAP)["metadata"].get("annotations") or {})
        assert "helm.sh/hook" in rendered.get("Job", "airflow-run-migrations")["metadata"]["annotations"]


class TestRolled:
    def test_a_change_to_a_script_rolls_every_pod_that_runs_them(self, tmp_path):
        chart = tmp_path / "airflow"
        shutil.copytree(CHART, chart, ignore=shutil.ignore_patterns("__pycache__"))
        changed = chart / "files" / "scripts" / "job_liveness.py"
        changed.write_text(changed.read_text() + "# changed\n")
        done = subprocess.run([str(tools.helm(3)), "template", RELEASE, str(chart), "--namespace", "airflow"],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        before = {p.origin: p.metadata.get("annotations") or {} for p in pod_specs(render(scenarios.DEFAULT).objects)}
        after = {p.origin: p.metadata.get("annotations") or {} for p in pod_specs(parse_manifests(done.stdout)[0])}
        running = {"/".join(where.split("/")[:2]) for where in DEFAULT_CALLS}
        assert {origin for origin, annotations in before.items() if "checksum/scripts" in annotations} == running
        for origin in running:
            assert after[origin]["checksum/scripts"] != before[origin]["checksum/scripts"], origin


class TestNoCodeInTemplates:
    def test_no_template_holds_more_than_ten_lines_of_python_or_shell(self):
        counts = {path: sum(1 for line in path.read_text().splitlines() if CODE_LINE.match(line))
                  for path in sorted(Path(CHART.parent).glob("*/templates/**/*")) if path.is_file()}  # fmt: skip
        assert counts, "no template found"
        over = {str(path.relative_to(CHART.parent)): n for path, n in counts.items() if n > MAX_CODE_LINES}
        assert not over, f"templates with more than {MAX_CODE_LINES} lines of Python or shell (move them to files/): {over}"

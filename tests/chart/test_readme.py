"""The chart README's values table is generated from values.yaml `## @param` comments and kept in sync.

The generator is the pinned npm @bitnami/readme-generator-for-helm run by hack/gen-chart-readme.sh
(`make docs`); this test runs the same script on a temporary copy of the README and compares.
"""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.lib.paths import CHART, REPO

README = CHART / "README.md"
GENERATOR = REPO / "hack" / "gen-chart-readme.sh"
GENERATOR_PACKAGE = REPO / "hack" / "readme-generator"
NPM_PACKAGE = "@bitnami/readme-generator-for-helm"


def test_readme_generator_version_is_pinned_and_locked():
    wanted = json.loads((GENERATOR_PACKAGE / "package.json").read_text())["devDependencies"][NPM_PACKAGE]
    assert wanted[0].isdigit(), f"pin {NPM_PACKAGE} to an exact version in package.json, not {wanted!r}"
    lock = json.loads((GENERATOR_PACKAGE / "package-lock.json").read_text())
    locked = lock["packages"][f"node_modules/{NPM_PACKAGE}"]["version"]
    assert locked == wanted, f"package-lock.json has {locked}, package.json pins {wanted}: run npm install there"


needs_node = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are needed to run @bitnami/readme-generator-for-helm; install Node.js 20+")


@needs_node
def test_readme_values_table_is_in_sync_with_values_yaml(tmp_path: Path):
    assert README.exists(), f"{README} is missing: create it with a '## Parameters' heading, then run `make docs`"
    regenerated = tmp_path / "README.md"
    shutil.copyfile(README, regenerated)

    proc = subprocess.run([str(GENERATOR), str(regenerated)], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, f"{GENERATOR.name} failed:\n{proc.stderr}"

    committed, fresh = README.read_text(), regenerated.read_text()
    if committed != fresh:
        diff = "".join(difflib.unified_diff(committed.splitlines(True), fresh.splitlines(True),
                                            "README.md (committed)", "README.md (from values.yaml)", n=1))
        pytest.fail(f"charts/airflow/README.md is out of date with values.yaml: run `make docs`\n{diff}")


@needs_node
def test_undocumented_value_is_reported_in_one_line_without_a_stack_trace(tmp_path: Path):
    values = tmp_path / "values.yaml"
    values.write_text("## @section Example\n## @param documented A documented value\ndocumented: 1\nundocumented: 2\n")
    readme = tmp_path / "README.md"
    readme.write_text("# Example\n\n## Parameters\n")

    proc = subprocess.run([str(GENERATOR), str(readme), str(values)], capture_output=True, text=True, timeout=300,
                          check=False)

    assert proc.returncode != 0, "a value without a `## @param` comment must fail `make docs`"
    assert "Missing metadata for key: undocumented" in proc.stderr, proc.stderr
    assert "    at " not in proc.stderr, f"a JavaScript stack trace leaked:\n{proc.stderr}"

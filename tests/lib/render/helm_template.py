"""Render the chart with the real helm binary, once per (scenario, helm major) per test run.

A scenario is a name plus values (files and/or an inline dict). Rendering is cached in-process, so
every test that asks for the same scenario shares one `helm template` call.
"""

from __future__ import annotations

import functools
import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from tests.lib import tools
from tests.lib.paths import CHART

RELEASE = "airflow"
NAMESPACE = "airflow"


@dataclass(frozen=True)
class Scenario:
    """A named set of values (and the release namespace). `values` is stored as JSON so the scenario stays hashable."""

    name: str
    files: tuple[Path, ...] = ()
    values_json: str = "{}"
    namespace: str = NAMESPACE
    # APIs the cluster is taken to serve beyond the built-in ones (helm's --api-versions), e.g.
    # monitoring.coreos.com/v1 where the Prometheus Operator runs.
    api_versions: tuple[str, ...] = ()

    @classmethod
    def of(cls, name: str, values: dict[str, Any] | None = None, files: Iterable[Path] = (),
           namespace: str = NAMESPACE, api_versions: Iterable[str] = ()) -> "Scenario":
        return cls(name=name, files=tuple(files), values_json=json.dumps(values or {}, sort_keys=True),
                   namespace=namespace, api_versions=tuple(api_versions))

    @property
    def values(self) -> dict[str, Any]:
        return json.loads(self.values_json)


@dataclass
class Rendered:
    """The objects of one rendered chart, with small queries tests use."""

    scenario: Scenario
    objects: list[dict[str, Any]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # template path of each object, same order

    def all(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [o for o in self.objects if kind is None or o.get("kind") == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = [o for o in self.all(kind) if o["metadata"]["name"] == name]
        if len(found) != 1:
            names = sorted(o["metadata"]["name"] for o in self.all(kind))
            raise KeyError(f"{kind}/{name} rendered {len(found)} times in {self.scenario.name}; {kind}s: {names}")
        return found[0]

    def maybe(self, kind: str, name: str) -> dict[str, Any] | None:
        found = [o for o in self.all(kind) if o["metadata"]["name"] == name]
        return found[0] if found else None

    def from_template(self, suffix: str) -> list[dict[str, Any]]:
        return [o for o, s in zip(self.objects, self.sources) if s.endswith(suffix)]


class HelmError(RuntimeError):
    def __init__(self, stderr: str):
        super().__init__(stderr)
        self.stderr = stderr


def _helm_template(values: dict[str, Any], files: tuple[Path, ...], helm_major: int,
                   extra_args: tuple[str, ...] = (), namespace: str = NAMESPACE) -> subprocess.CompletedProcess[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        yaml.safe_dump(values, fh)
        inline = fh.name
    try:
        cmd = template_command(files, Path(inline), helm_major, *extra_args, namespace=namespace)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        Path(inline).unlink(missing_ok=True)


def template_command(files: Iterable[Path], inline: Path, helm_major: int, *extra_args: str,
                     namespace: str = NAMESPACE) -> list[str]:
    """The `helm template` command line for values `files` plus the `inline` values file, in that order."""
    cmd = [str(tools.helm(helm_major)), "template", RELEASE, str(CHART), "--namespace", namespace]
    for f in files:
        cmd += ["--values", str(f)]
    return [*cmd, "--values", str(inline), *extra_args]


def parse_manifests(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    objects, sources = [], []
    for chunk in text.split("\n---"):
        source = ""
        for line in chunk.splitlines():
            if line.startswith("# Source: "):
                source = line[len("# Source: "):].strip()
                break
        doc = yaml.safe_load(chunk)
        if isinstance(doc, dict) and doc:
            objects.append(doc)
            sources.append(source)
    return objects, sources


@functools.cache
def render(scenario: Scenario, helm_major: int = 3, show_hooks: bool = True) -> Rendered:
    """Render `scenario` (cached). Raises HelmError with helm's stderr when helm refuses the values."""
    extra = () if show_hooks else ("--no-hooks",)
    extra += tuple(f"--api-versions={api}" for api in scenario.api_versions)
    proc = _helm_template(scenario.values, scenario.files, helm_major, extra, scenario.namespace)
    if proc.returncode != 0:
        raise HelmError(proc.stderr)
    objects, sources = parse_manifests(proc.stdout)
    return Rendered(scenario=scenario, objects=objects, sources=sources)


def render_error(values: dict[str, Any], files: Iterable[Path] = (), helm_major: int = 3) -> str:
    """Render values that must be refused; return helm's error text (fails if helm accepted them)."""
    proc = _helm_template(values, tuple(files), helm_major)
    if proc.returncode == 0:
        raise AssertionError(f"helm accepted values that should be refused: {values}")
    return proc.stderr

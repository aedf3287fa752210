"""The corpus of wrong values the chart must refuse, one YAML file each in tests/chart/rejected-values/.

Each file is a values file headed by two comment lines:

    # why: <what is wrong, in words>
    # expect: <dotted path of the field helm's error must name, e.g. scheduler.resources.limits.cpu>

The files are the single source of the corpus: the chart tests and the conformance scan both load
them with `load_cases()`, so growing the corpus means adding one file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.lib.paths import REPO

CORPUS_DIR = REPO / "tests" / "chart" / "rejected-values"


@dataclass(frozen=True)
class RejectedCase:
    name: str  # the file name without .yaml
    path: Path
    why: str
    field: str  # dotted path; array items as numbers (rbac.podLaunchNamespaces.0)
    values: dict[str, Any]

    @property
    def by_schema(self) -> bool:
        """schema-* cases are refused by values.schema.json, fail-* cases by the chart's `fail` checks."""
        return self.name.startswith("schema-")


class CorpusError(ValueError):
    pass


def _header(path: Path, key: str) -> str:
    prefix = f"# {key}:"
    for line in path.read_text().splitlines():
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    raise CorpusError(f"{path.name}: missing a '{prefix} ...' comment line")


def load_case(path: Path) -> RejectedCase:
    values = yaml.safe_load(path.read_text())
    if not isinstance(values, dict) or not values:
        raise CorpusError(f"{path.name}: the body must be a non-empty values mapping")
    return RejectedCase(name=path.stem, path=path, why=_header(path, "why"),
                        field=_header(path, "expect"), values=values)


def load_cases() -> list[RejectedCase]:
    return [load_case(p) for p in sorted(CORPUS_DIR.glob("*.yaml"))]


def field_mentions(field: str, helm_major: int, by_schema: bool) -> list[str]:
    """The ways helm's error text names `field`; an error naming it contains one of these.

    The chart's own `fail` messages name the field dotted, as the values contract spells it. Schema
    errors differ per major: Helm 3 writes dotted paths ("- scheduler.replicas: Invalid type") and
    unknown keys as "- scheduler: Additional property replica is not allowed" and missing ones as
    "- scheduler.extraContainers.0: image is required"; Helm 4 writes JSON pointers ("at
    '/scheduler/replicas'"), "at '/scheduler': additional properties 'replica' ..." and "at
    '/scheduler/extraContainers/0': missing property 'image'".
    """
    if not by_schema:
        return [field]
    *parent_parts, key = field.split(".")
    parent = ".".join(parent_parts)
    if helm_major == 3:
        return [f"- {field}: ", f"- {parent or '(root)'}: Additional property {key} is not allowed",
                f"- {parent or '(root)'}: {key} is required"]  # fmt: skip
    pointer = "/" + field.replace(".", "/")
    parent_pointer = "/" + parent.replace(".", "/") if parent else ""
    return [f"at '{pointer}'", f"at '{parent_pointer}': additional properties '{key}'",
            f"at '{parent_pointer}': missing property '{key}'"]  # fmt: skip

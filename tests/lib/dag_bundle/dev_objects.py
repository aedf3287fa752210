"""The objects `make dev-objects` creates for the DAG bundle, read from dags/dev_objects.yaml.

The same file is what hack/create-dev-objects.sh applies, so names are written down once.
"""

from __future__ import annotations

import functools
import os
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from tests.lib.paths import DAGS, REPO
from tests.lib.suite.lanes import setup_lock

if TYPE_CHECKING:
    from tests.lib.cluster.target import ClusterTarget

FILE = DAGS / "dev_objects.yaml"
PULL_SECRET_TYPE = "kubernetes.io/dockerconfigjson"


@dataclass(frozen=True)
class DevObjects:
    objects: tuple[dict[str, Any], ...]

    def names(self, kind: str, namespace: str, secret_type: str | None = None) -> set[str]:
        return {o["metadata"]["name"] for o in self.objects
                if o["kind"] == kind and o["metadata"].get("namespace") == namespace
                and (secret_type is None or o.get("type") == secret_type)}

    def keys(self, kind: str, namespace: str, name: str) -> set[str]:
        """The data keys of one Secret or ConfigMap (data and stringData)."""
        for o in self.objects:
            meta = o["metadata"]
            if o["kind"] == kind and meta.get("namespace") == namespace and meta["name"] == name:
                return set(o.get("data") or {}) | set(o.get("stringData") or {})
        raise KeyError(f"{kind} {namespace}/{name} is not in {FILE}")


    def secret_value(self, namespace: str, name: str, key: str) -> str:
        """One value of a Secret, as the pod receives it."""
        import base64

        for o in self.objects:
            meta = o["metadata"]
            if o["kind"] == "Secret" and meta.get("namespace") == namespace and meta["name"] == name:
                if key in (o.get("stringData") or {}):
                    return o["stringData"][key]
                return base64.b64decode(o["data"][key]).decode()
        raise KeyError(f"Secret {namespace}/{name} is not in {FILE}")


@functools.cache
def load() -> DevObjects:
    with FILE.open() as fh:
        return DevObjects(tuple(doc for doc in yaml.safe_load_all(fh) if doc))


def apply_dev_objects(target: ClusterTarget) -> None:
    """`make dev-objects` against `target`: the Secret, ConfigMaps and pull secret the DAGs reference.
    One pytest-xdist worker at a time: two creating the same namespace at once would race."""
    with setup_lock():
        created = subprocess.run(["bash", str(REPO / "hack" / "create-dev-objects.sh")], capture_output=True, text=True,
                                 env={**os.environ, "KUBECONFIG": str(target.kubeconfig)}, timeout=120)  # fmt: skip
    assert created.returncode == 0, f"hack/create-dev-objects.sh failed: {created.stderr}"

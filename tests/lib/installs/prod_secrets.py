"""The Secrets values/prod.yaml expects, created by running the commands its comments give a user.

The header of values/prod.yaml lists shell commands (lines `#   kubectl ...`, continued with `\\`).
They are run here as written, with bash, the pinned kubectl, the user's variables set
(DATABASE_URL, GIT_USERNAME, ...) and `-n airflow` pointed at the test's release namespace: if the
comments name a wrong Secret or key, or a command does not work, the prod install tests fail.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.lib import tools
from tests.lib.cluster.target import ClusterTarget
from tests.lib.paths import VALUES_DIR

PROD_VALUES = VALUES_DIR / "prod.yaml"
DOCS_NAMESPACE = "airflow"


def documented_commands(path: Path = PROD_VALUES) -> list[str]:
    """The `kubectl` commands of the file's comments, continuation lines joined."""
    commands: list[str] = []
    pending = ""
    for line in path.read_text().splitlines():
        match = re.match(r"^#   (.*)$", line)
        if not match:
            continue
        text = match.group(1)
        if pending or text.startswith("kubectl "):
            pending += text.strip()[:-1].rstrip() + " " if text.endswith("\\") else text.strip()
            if not text.endswith("\\"):
                commands.append(pending)
                pending = ""
    return commands


def creates(command: str) -> str:
    """The name of the Secret or ConfigMap a command creates ("" for `kubectl create namespace`)."""
    match = re.search(r"create (?:secret generic|configmap) (\S+)", command)
    return match.group(1) if match else ""


def documented(containing: str) -> str:
    """The one documented command containing `containing` (a step of the JWT key rotation, say)."""
    found = [c for c in documented_commands() if containing in c]
    assert len(found) == 1, f"values/prod.yaml documents {len(found)} commands containing {containing!r}: {found}"
    return found[0]


def run_documented(target: ClusterTarget, namespace: str, names: set[str], variables: dict[str, str]) -> None:
    """Run the documented commands creating `names`, in `namespace`, with the user's `variables`."""
    chosen = [c for c in documented_commands() if creates(c) in names]
    missing = names - {creates(c) for c in chosen}
    assert not missing, f"values/prod.yaml documents no command creating {sorted(missing)}"
    for command in chosen:
        run_command(target, namespace, command, variables)


def run_command(target: ClusterTarget, namespace: str, command: str, variables: dict[str, str]) -> None:
    """Run one documented command as written, in `namespace`, with the user's `variables`."""
    env = {**os.environ, **variables, "KUBECONFIG": str(target.kubeconfig),
           "PATH": f"{tools.kubectl().parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # fmt: skip
    command = command.replace(f"-n {DOCS_NAMESPACE} ", f"-n {namespace} ")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", command], capture_output=True, text=True,
                          env=env, timeout=60)  # fmt: skip
    assert done.returncode == 0, f"the command values/prod.yaml documents failed: {command}\n{done.stderr}"

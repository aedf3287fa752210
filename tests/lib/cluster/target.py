"""The Kubernetes cluster the e2e tests run against.

Either the cluster KUBECONFIG already names (kind in CI, or any cluster a user points at), or the
one `make cluster-up` brings up (hack/cluster/up.sh): the local control plane (kube-apiserver,
controller-manager, scheduler and etcd built from Kubernetes' source) with a real kubelet node where
the host can run containers (Linux, root), else with KWOK simulating the nodes. With KWOK, API
objects, RBAC and admission are real but containers do not run: KWOK moves pods through their
lifecycle (hack/cluster/kwok/stages.yaml) and serves a placeholder as every container's log.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.lib import tools
from tests.lib.paths import REPO

LOCAL_KUBECONFIG = REPO / ".kube" / "local-control-plane.yaml"
BUILD_SCRIPT = REPO / "hack" / "cluster" / "build.sh"
CLUSTER_UP_SCRIPT = REPO / "hack" / "cluster" / "up.sh"
CHOOSE_SCRIPT = REPO / "hack" / "cluster" / "choose.sh"
LOCAL_CLUSTER_NAME = os.environ.get("LOCAL_CLUSTER_NAME", "airflow-on-k8s")
# kwokctl keeps each cluster's pid files, logs and PKI under its workdir.
KWOK_CLUSTER_DIR = Path(os.environ.get("KWOK_WORKDIR", Path.home() / ".kwok")) / "clusters" / LOCAL_CLUSTER_NAME

# KWOK manages nodes carrying this annotation (hack/cluster/kwok/nodes.yaml); no kubelet runs behind them.
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
# Annotations read by hack/cluster/kwok/stages.yaml to steer a simulated pod's ending.
OUTCOME_ANNOTATION = "local-control-plane.airflow-on-k8s/outcome"
RUN_FOR_ANNOTATION = "local-control-plane.airflow-on-k8s/run-for"


class ControlPlaneUnavailable(RuntimeError):
    """The local cluster's binaries could not be built; the message says why."""


@dataclass(frozen=True)
class ClusterTarget:
    kubeconfig: Path
    simulated: bool  # True when KWOK simulates the nodes: containers do not run

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the pinned kubectl against this cluster; output is captured as text."""
        cmd = [str(tools.kubectl()), "--kubeconfig", str(self.kubeconfig), *args]
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=check, timeout=120)

    def kubectl_json(self, *args: str) -> Any:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def create_namespace(self, name: str, *labels: str) -> None:
        """Create a namespace and wait for its `default` ServiceAccount.

        The controller-manager adds that account a moment after the namespace appears, and until then
        the API server refuses every pod there ("serviceaccount default not found"): right after a
        control-plane (re)start that moment can be seconds.
        """
        # One request with its labels, retried for a while: just after a control-plane start the API
        # server can refuse a write for a moment (a CI run once failed on the label of a namespace it
        # had just created). A retry that finds it there finds the one the first attempt made.
        manifest = {"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": name, "labels": dict(label.split("=", 1) for label in labels)}}  # fmt: skip
        deadline = time.monotonic() + 30
        attempt = 0
        while (done := self.kubectl("create", "-f", "-", stdin=json.dumps(manifest), check=False)).returncode != 0:
            attempt += 1
            if attempt > 1 and "AlreadyExists" in done.stderr:
                break
            if time.monotonic() > deadline or "AlreadyExists" in done.stderr:
                raise RuntimeError(f"kubectl create namespace {name} failed: {done.stderr.strip()[-1000:]}")
            time.sleep(2)
        deadline = time.monotonic() + 60
        while self.kubectl("get", "serviceaccount", "default", "-n", name, check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"namespace {name} got no default ServiceAccount in 60 s: is the controller-manager up?")
            time.sleep(0.5)

    def with_token(self, token: str, directory: Path) -> ClusterTarget:
        """The same cluster seen through a bearer token alone (e.g. a ServiceAccount's), no client cert.

        The kubeconfig is written into `directory`; its server and CA are this cluster's.
        """
        config = self.kubectl_json("config", "view", "--raw", "--minify", "--flatten")
        context = config["contexts"][0]["context"]
        config["users"] = [{"name": "token", "user": {"token": token}}]
        context["user"] = "token"
        path = directory / f"token-{hashlib.sha256(token.encode()).hexdigest()[:12]}.kubeconfig"
        path.write_text(json.dumps(config))
        path.chmod(0o600)
        return ClusterTarget(kubeconfig=path, simulated=self.simulated)


def kubeconfig_from_env(env: dict[str, str] | None = None) -> Path | None:
    """The kubeconfig KUBECONFIG names, if it is set to one existing file."""
    value = (env if env is not None else os.environ).get("KUBECONFIG", "")
    if not value:
        return None
    if os.pathsep in value:
        raise ValueError(f"KUBECONFIG lists several files ({value}); point it at one file for the e2e tests")
    path = Path(value).expanduser()
    if not path.is_file():
        raise ValueError(f"KUBECONFIG names {path}, which does not exist; unset it to use the local control plane")
    return path


def _last_lines(text: str, n: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-n:]) or "no output"


def build_control_plane() -> None:
    """Build the local cluster's binaries (a no-op when cached). A cold build prints its progress."""
    proc = subprocess.run([str(BUILD_SCRIPT)], stdout=None, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise ControlPlaneUnavailable(
            f"{BUILD_SCRIPT.relative_to(REPO)} failed (exit {proc.returncode}): {_last_lines(proc.stderr)}"
        )


def start_local_cluster() -> Path:
    """Bring up (or reuse) the cluster hack/cluster/up.sh picks and return its kubeconfig."""
    build_control_plane()
    proc = subprocess.run([str(CLUSTER_UP_SCRIPT)], capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"hack/cluster/up.sh failed: {_last_lines(proc.stdout + proc.stderr, 8)}")
    print(proc.stdout, end="", flush=True)  # which cluster and why, what was installed: worth a line in the log
    last = proc.stdout.strip().splitlines()[-1]
    if not last.startswith("KUBECONFIG="):
        raise RuntimeError(f"hack/cluster/up.sh did not end with KUBECONFIG=...: {_last_lines(proc.stdout, 3)}")
    return Path(last.removeprefix("KUBECONFIG="))


def chosen_mode() -> str:
    """kind, node or kwok: which cluster hack/cluster/up.sh brings up on this host (and why, after it)."""
    return subprocess.run([str(CHOOSE_SCRIPT)], capture_output=True, text=True, check=True).stdout.strip()


def control_plane_bin_dir() -> Path:
    """Where hack/cluster/build.sh keeps the binaries of the pinned Kubernetes version."""
    out = subprocess.run([str(BUILD_SCRIPT), "--print-bin-dir"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def _local_component_pid(component: str) -> str:
    return (KWOK_CLUSTER_DIR / "pids" / f"{component}.pid").read_text().strip()


def local_component_executable(component: str) -> Path:
    """The executable the running local control-plane component was started from."""
    return Path(os.readlink(f"/proc/{_local_component_pid(component)}/exe"))


def local_component_args(component: str) -> list[str]:
    """The command line the running local control-plane component was started with."""
    return Path(f"/proc/{_local_component_pid(component)}/cmdline").read_text().rstrip("\0").split("\0")


def is_simulated(kubeconfig: Path) -> bool:
    target = ClusterTarget(kubeconfig, simulated=False)
    nodes = target.kubectl_json("get", "nodes")["items"]
    return any(KWOK_NODE_ANNOTATION in n["metadata"].get("annotations", {}) for n in nodes)


def resolve_target() -> ClusterTarget:
    """The cluster KUBECONFIG names, else the local cluster (brought up if needed)."""
    kubeconfig = kubeconfig_from_env() or start_local_cluster()
    return ClusterTarget(kubeconfig=kubeconfig, simulated=is_simulated(kubeconfig))

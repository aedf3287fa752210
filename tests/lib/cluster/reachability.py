"""Network reachability between pods, asked of the real node: a busybox pod in a namespace tries a TCP
connection (nc) to an address, as any workload there could. Used to judge NetworkPolicies under
the policy engine the node runs (kube-router's firewall): allowed flows connect, denied ones do not.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from dataclasses import dataclass

from tests.lib.cluster.target import ClusterTarget

# hack/cluster/config.sh BUSYBOX_IMAGE: Debian's static busybox alone, at /busybox (no applet links).
BUSYBOX = "docker.io/airflow-on-k8s/busybox:1.35.0"
CONNECT_TIMEOUT_S = 4


def host_connect_error(host: str, port: int, timeout: float = 2) -> OSError | None:
    """Why this process (on the local cluster: the node itself) cannot open a TCP connection, or None."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as err:
        return err


def wait_while_refused(host: str, port: int, seconds: float = 20) -> OSError | None:
    """Retry a connection this process gets refused, for up to `seconds`: a Service just rolled out
    or created is refused until kube-proxy's rules catch up. The last error, or None once it connects."""
    deadline = time.monotonic() + seconds
    error = host_connect_error(host, port)
    while isinstance(error, ConnectionRefusedError) and time.monotonic() < deadline:
        time.sleep(1)
        error = host_connect_error(host, port)
    return error


def host_connects(host: str, port: int, timeout: float = 2) -> bool:
    return host_connect_error(host, port, timeout) is None


@dataclass
class Prober:
    """A long-running busybox pod in `namespace` that probes connections on request."""

    target: ClusterTarget
    namespace: str
    labels: str = ""  # extra pod labels, "key=value,..."
    name: str = ""

    def start(self) -> Prober:
        self.name = self.name or f"net-probe-{uuid.uuid4().hex[:6]}"
        restricted = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
        overrides = json.dumps({"spec": {
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "probe", "image": BUSYBOX, "imagePullPolicy": "IfNotPresent",
                            "command": ["/busybox", "sleep", "3600"], "securityContext": restricted}],
        }})  # fmt: skip
        labels = ["--labels", self.labels] if self.labels else []
        self.target.kubectl("run", self.name, "-n", self.namespace, "--image", BUSYBOX, "--restart=Never",
                            *labels, "--overrides", overrides)  # fmt: skip
        self.target.kubectl("wait", "-n", self.namespace, f"pod/{self.name}", "--for=condition=Ready", "--timeout=60s")
        return self

    def connects(self, host: str, port: int) -> bool:
        """Whether a TCP connection from this pod to host:port is established within the timeout."""
        # Debian's busybox nc has no -z: send one newline; it exits 0 once connected and the peer answered
        # or closed, 1 when refused or not connected within the timeout.
        probe = f"echo | /busybox nc -w {CONNECT_TIMEOUT_S} {host} {port}"
        done = self.target.kubectl("exec", "-n", self.namespace, self.name, "--", "/busybox", "sh", "-c", probe,
                                   check=False)  # fmt: skip
        return done.returncode == 0

    def stop(self) -> None:
        self.target.kubectl("delete", "pod", self.name, "-n", self.namespace, "--wait=false", "--ignore-not-found",
                            check=False)  # fmt: skip


def pod_connects(target: ClusterTarget, namespace: str, pod: str, container: str, host: str, port: int) -> bool:
    """Whether the real pod `pod` (an Airflow container: Python, no nc) opens a TCP connection to
    host:port within the timeout, as its own process would."""
    code = (f"import socket; socket.create_connection(({host!r}, {port}), timeout={CONNECT_TIMEOUT_S}).close()")
    done = target.kubectl("exec", "-n", namespace, pod, "-c", container, "--", "python", "-c", code, check=False)
    return done.returncode == 0


"""Peak memory and CPU of a release's components, read from their containers' cgroups (v1) on this
host while a block of work runs: what the real node measured, not what the pods request.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path

from tests.lib.cluster.target import ClusterTarget

CGROUP = Path("/sys/fs/cgroup")


def container_cgroup(controller: str, pod_uid: str, container_id: str) -> Path | None:
    """The container's cgroup (cgroupfs driver: kubepods/[burstable|besteffort/]pod<uid>/<id>), or None.
    Looked up by name, not by walking kubepods: a walk fails when any pod's cgroup goes mid-walk."""
    kubepods = CGROUP / controller / "kubepods"
    for qos in ("", "burstable", "besteffort"):
        path = kubepods / qos / f"pod{pod_uid}" / container_id
        if path.is_dir():
            return path
    return None


class CgroupSampler:
    """Each main container's memory and CPU use, sampled every second while the block runs."""

    def __init__(self, target: ClusterTarget, namespace: str) -> None:
        self.target, self.namespace = target, namespace
        self.peak_memory: dict[str, int] = {}
        self.peak_cpu: dict[str, float] = {}
        self._stop = threading.Event()

    def containers(self) -> list[tuple[str, str, Path, Path]]:
        """(key, container id, memory cgroup, cpu cgroup) of every container of the release's components
        but workers. The key is the component for its main container (named after it) and
        `component:container` for the others (git-sync); replicas share a key, so peaks are the
        highest of any replica."""
        found = []
        for pod in self.target.kubectl_json("get", "pods", "-n", self.namespace)["items"]:
            component = pod["metadata"].get("labels", {}).get("app.kubernetes.io/component")
            if not component or component == "worker":
                continue
            for status in pod["status"].get("containerStatuses", []):
                cid = status.get("containerID", "").removeprefix("containerd://")
                memory = container_cgroup("memory", pod["metadata"]["uid"], cid)
                cpu = container_cgroup("cpuacct", pod["metadata"]["uid"], cid)
                if memory and cpu:
                    key = component if status["name"] == component else f"{component}:{status['name']}"
                    found.append((key, cid, memory, cpu))
        return found

    def _run(self) -> None:
        last: dict[str, tuple[float, int]] = {}  # by container id: (when, cpu ns used)
        while not self._stop.wait(1.0):
            for key, cid, memory, cpu in self.containers():
                try:
                    peak = int((memory / "memory.max_usage_in_bytes").read_text())
                    used = int((cpu / "cpuacct.usage").read_text())
                except OSError:
                    continue
                now = time.monotonic()
                self.peak_memory[key] = max(self.peak_memory.get(key, 0), peak)
                if cid in last:
                    then, before = last[cid]
                    self.peak_cpu[key] = max(self.peak_cpu.get(key, 0.0), (used - before) / 1e9 / (now - then))
                last[cid] = (now, used)

    @contextmanager
    def running(self):
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(timeout=15)

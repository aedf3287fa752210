"""`kubectl logs --follow` of one pod while a block runs: its log survives the pod being deleted."""

from __future__ import annotations

import subprocess
import tempfile

from tests.lib import tools
from tests.lib.cluster.target import ClusterTarget


class FollowedLog:
    """The log of pod `name` (all of it, from its start) as it was written while the `with` block ran.
    `text` is read after the block; a pod deleted inside the block leaves what it wrote before."""

    def __init__(self, target: ClusterTarget, namespace: str, name: str, container: str | None = None) -> None:
        self.cmd = [str(tools.kubectl()), "--kubeconfig", str(target.kubeconfig), "logs", "--follow",
                    "-n", namespace, name, *(["-c", container] if container else [])]  # fmt: skip
        self.text = ""

    def __enter__(self) -> FollowedLog:
        # Into a file, not a pipe: a full pipe would stall kubectl and lose the lines after it.
        self.output = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(self.cmd, stdout=self.output, stderr=subprocess.STDOUT, text=True)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.proc.wait(timeout=5)  # the pod ended: kubectl has written its last lines and exited
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.output.seek(0)
        self.text = self.output.read()
        self.output.close()

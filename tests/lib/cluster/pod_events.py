"""`kubectl get pods --watch` on one namespace, recording every event while a block runs."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from typing import Any

from tests.lib import tools
from tests.lib.cluster.target import ClusterTarget


class PodWatch:
    """Every pod event in `namespace` (matching `selector`) while the `with` block runs, in order."""

    def __init__(self, target: ClusterTarget, namespace: str, selector: str) -> None:
        self.cmd = [str(tools.kubectl()), "--kubeconfig", str(target.kubeconfig), "get", "pods",
                    "-n", namespace, "-l", selector, "--watch", "--output-watch-events", "-o", "json"]  # fmt: skip
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> PodWatch:
        # Into a file, not a pipe: a full pipe would stall kubectl and lose the events after it.
        self.output = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(self.cmd, stdout=self.output, stderr=subprocess.DEVNULL, text=True)
        time.sleep(1)  # the watch is established before anything is launched
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(2)  # let the last DELETED event arrive
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.output.seek(0)
        out = self.output.read()
        self.output.close()
        decoder, pos = json.JSONDecoder(), 0
        while (pos := _skip_space(out, pos)) < len(out):
            event, pos = decoder.raw_decode(out, pos)
            self.events.append(event)

    def of(self, label: str, value: str) -> list[dict[str, Any]]:
        """The events of pods whose label `label` is `value`."""
        return [e for e in self.events if e["object"]["metadata"].get("labels", {}).get(label) == value]


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos

"""A container's liveness command run as the kubelet runs it (an exec in the container), with the CPU
it cost: what the probe spends every period, forever, measured from the inside (getrusage of the
child process), for the e2e tests and `make bench`."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from tests.lib.installs.release import Release

_MEASURED = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
             "use = resource.getrusage(resource.RUSAGE_CHILDREN); "
             "print(f'cpu-seconds {use.ru_utime + use.ru_stime:.3f}'); sys.exit(done.returncode)")  # fmt: skip


@dataclass
class ProbeRun:
    returncode: int
    output: str
    cpu_seconds: float


def run_measured(release: Release, pod: str, container: str, command: list[str]) -> ProbeRun:
    """`command` in `container` of `pod`, as a child of a Python that reports its CPU-seconds."""
    done = release.target.kubectl("exec", "-n", release.namespace, pod, "-c", container, "--",
                                  "python", "-c", _MEASURED, *command, check=False)  # fmt: skip
    output = done.stdout + done.stderr
    cpu = re.search(r"cpu-seconds (\d+\.\d+)", output)
    if cpu is None:
        raise subprocess.SubprocessError(f"no CPU figure from the measured command:\n{output[-2000:]}")
    return ProbeRun(done.returncode, output, float(cpu[1]))


def liveness(release: Release, component: str) -> tuple[str, list[str]]:
    """(pod name, liveness exec command) of the component's one running pod."""
    pods = [p for p in release.kubectl_json("get", "pods", "-l", f"app.kubernetes.io/component={component}")["items"]
            if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]  # fmt: skip
    pod = pods[0]
    (container,) = [c for c in pod["spec"]["containers"] if c["name"] == component]
    return pod["metadata"]["name"], container["livenessProbe"]["exec"]["command"]

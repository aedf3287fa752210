"""What a running cluster puts on this host, read from the kernel and the filesystem.

A `HostState` lists the processes, mounts, network links, netfilter rules, cgroups, sysctls and
files outside the user's cache that the local cluster can add. Taken before `make cluster-up` and
after `make cluster-down`, two states must be equal: everything set-up added, teardown removed.
Linux only; reading netfilter rules needs root.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, fields
from pathlib import Path

# Where the node or anything it runs may write outside the cache (the kubelet's and CNI's fixed
# places among them). /tmp and the cache itself are not watched: other work writes there.
WATCHED_DIRS = (
    "/var/lib/airflow-on-k8s", "/run/airflow-on-k8s", "/var/lib/kubelet", "/var/lib/cni", "/var/log/containers",
    "/var/log/pods", "/run/containerd", "/var/run/netns", "/etc/cni", "/opt/containerd", "/opt/cni",
    "/usr/libexec/kubernetes", "/var/lib/containerd", "/etc/kubernetes",
)  # fmt: skip
SYSCTLS = (
    "net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables",
    "net.ipv4.conf.all.route_localnet", "vm.overcommit_memory", "vm.panic_on_oom", "kernel.panic",
    "kernel.panic_on_oops", "kernel.keys.root_maxkeys", "kernel.keys.root_maxbytes", "net.netfilter.nf_conntrack_max",
)  # fmt: skip
# Programs of a cluster: the built binaries (by path), and Debian's runtime pieces (by name).
CLUSTER_PROGRAMS = re.compile(r"/airflow-on-k8s/|/\.kwok/|/(containerd|containerd-shim[\w-]*|runc|dockerd)$")


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout


def cluster_processes() -> list[str]:
    """Running (not zombie) processes of the cluster's programs, as 'pid exe'."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            exe = os.readlink(proc / "exe")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # gone, a kernel thread, or a zombie without an exe
        if state != "Z" and CLUSTER_PROGRAMS.search(exe.removesuffix(" (deleted)")):
            found.append(f"{proc.name} {exe}")
    return sorted(found)


def _mounts() -> list[str]:
    return sorted({line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()})


def _links() -> list[str]:
    return sorted(line.split(":")[1].strip().split("@")[0] for line in _run("ip", "-o", "link").splitlines())


def _rules(command: str) -> list[str]:
    """Tables, chains and rules, without the packet counters that change by themselves."""
    rules = []
    for line in _run(command).splitlines():
        if line.startswith("#") or line == "COMMIT":
            continue
        rules.append(re.sub(r" \[\d+:\d+\]$", "", line))
    return rules


def _cgroups() -> list[str]:
    root = Path("/sys/fs/cgroup")
    return sorted(str(p) for controller in root.iterdir() for p in controller.rglob("*") if p.is_dir())


def _sysctls() -> list[str]:
    values = []
    for key in SYSCTLS:
        path = Path("/proc/sys") / key.replace(".", "/")
        if path.exists():
            values.append(f"{key}={' '.join(path.read_text().split())}")
    return values


def _files() -> list[str]:
    found = []
    for top in WATCHED_DIRS:
        path = Path(top)
        if path.exists() or path.is_symlink():
            found.append(top)
            found.extend(str(p) for p in path.rglob("*"))
    return sorted(found)


@dataclass(frozen=True)
class HostState:
    processes: tuple[str, ...]
    mounts: tuple[str, ...]
    links: tuple[str, ...]
    iptables: tuple[str, ...]
    ip6tables: tuple[str, ...]
    ipsets: tuple[str, ...]  # kube-router's NetworkPolicy sets
    nftables: tuple[str, ...]  # nftables tables (kube-proxy's nftables mode has its own)
    cgroups: tuple[str, ...]
    sysctls: tuple[str, ...]
    files: tuple[str, ...]

    @classmethod
    def read(cls) -> HostState:
        return cls(
            processes=tuple(p.split(" ", 1)[1] for p in cluster_processes()),
            mounts=tuple(_mounts()),
            links=tuple(_links()),
            iptables=tuple(_rules("iptables-save")),
            ip6tables=tuple(_rules("ip6tables-save")),
            ipsets=tuple(sorted(_run("ipset", "list", "-n").split())) if shutil.which("ipset") else (),
            nftables=tuple(sorted(_run("nft", "list", "tables").splitlines())) if shutil.which("nft") else (),
            cgroups=tuple(_cgroups()),
            sysctls=tuple(_sysctls()),
            files=tuple(_files()),
        )

    def added_since(self, before: HostState) -> dict[str, list[str]]:
        """What this state has that `before` had not, per kind; changed sysctls count as added."""
        added = {}
        for f in fields(self):
            new = sorted(set(getattr(self, f.name)) - set(getattr(before, f.name)))
            if new:
                added[f.name] = new
        return added

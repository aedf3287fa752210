"""A checker for the Kubernetes *restricted* Pod Security Standard, field by field.

Each rule names the control exactly as the standard's table does
(https://kubernetes.io/docs/concepts/security/pod-security-standards/), so a failure points at the
paragraph to read. The restricted profile is "everything from the baseline profile" plus its own
controls, so both tables are checked. Optional controls (Non-root groups) are not enforced.

Inheritance follows the standard's notes: a container-level field may stay unset when the pod-level
field satisfies the rule (runAsNonRoot, seccompProfile), and an explicit container value always wins.
Every rule covers initContainers, containers and ephemeralContainers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")

# Baseline controls
HOST_PROCESS = "HostProcess"
HOST_NAMESPACES = "Host Namespaces"
PRIVILEGED = "Privileged Containers"
CAPABILITIES_BASELINE = "Capabilities"
HOSTPATH = "HostPath Volumes"
HOST_PORTS = "Host Ports"
APPARMOR = "AppArmor"
SELINUX = "SELinux"
PROC_MOUNT = "/proc Mount Type"
SECCOMP_BASELINE = "Seccomp"
SYSCTLS = "Sysctls"
# Restricted controls
VOLUME_TYPES = "Volume Types"
PRIVILEGE_ESCALATION = "Privilege Escalation (v1.8+)"
RUN_AS_NON_ROOT = "Running as Non-root"
RUN_AS_NON_ROOT_USER = "Running as Non-root user (v1.23+)"
SECCOMP_RESTRICTED = "Seccomp (v1.19+)"
CAPABILITIES_RESTRICTED = "Capabilities (v1.22+)"

CONTROLS = (HOST_PROCESS, HOST_NAMESPACES, PRIVILEGED, CAPABILITIES_BASELINE, HOSTPATH, HOST_PORTS, APPARMOR,
            SELINUX, PROC_MOUNT, SECCOMP_BASELINE, SYSCTLS, VOLUME_TYPES, PRIVILEGE_ESCALATION, RUN_AS_NON_ROOT,
            RUN_AS_NON_ROOT_USER, SECCOMP_RESTRICTED, CAPABILITIES_RESTRICTED)

# Baseline "Capabilities": the only capabilities `add` may name (the container runtime's default set).
BASELINE_ADDABLE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})
# Restricted "Capabilities (v1.22+)": drop must include ALL, add may only name NET_BIND_SERVICE.
RESTRICTED_ADDABLE_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
# Baseline "Sysctls": the namespaced, pod-isolated "safe" set as of Kubernetes 1.29. Newer releases add
# more (net.ipv4.tcp_rmem/tcp_wmem in 1.32); we keep the 1.29 set because 1.30 and 1.31 must admit our pods.
SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
})
# Baseline "SELinux": seLinuxOptions.type may only be one of these; user and role must stay unset.
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
# Baseline "AppArmor" and "Seccomp": profile types that keep the runtime's confinement.
APPARMOR_TYPES = frozenset({"RuntimeDefault", "Localhost"})
SECCOMP_TYPES = frozenset({"RuntimeDefault", "Localhost"})
# Restricted "Volume Types": every volume must be one of these core types (the set every release from
# 1.30 on accepts).
ALLOWED_VOLUME_TYPES = frozenset({
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
})
HOST_NAMESPACE_FIELDS = ("hostNetwork", "hostPID", "hostIPC")
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


@dataclass(frozen=True)
class Violation:
    control: str  # the standard's control name
    field: str  # where, e.g. spec.containers[airflow].securityContext.allowPrivilegeEscalation
    detail: str  # what is wrong and what the standard allows

    def __str__(self) -> str:
        return f"[{self.control}] {self.field}: {self.detail}"


def _containers(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for list_name in CONTAINER_LISTS:
        for container in spec.get(list_name) or []:
            yield f"spec.{list_name}[{container.get('name', '?')}]", container


def _is_windows(spec: dict[str, Any]) -> bool:
    # The standard exempts pods with spec.os.name=windows from the Linux-only restricted controls.
    return ((spec.get("os") or {}).get("name")) == "windows"


def check_pod(spec: dict[str, Any], metadata: dict[str, Any] | None = None) -> list[Violation]:
    """Return every restricted-profile violation of one pod spec (empty when it complies)."""
    metadata = metadata or {}
    pod_sc = spec.get("securityContext") or {}
    found: list[Violation] = []

    def bad(control: str, field: str, detail: str) -> None:
        found.append(Violation(control, field, detail))

    windows = _is_windows(spec)

    # --- Baseline ---------------------------------------------------------------------------------
    if (pod_sc.get("windowsOptions") or {}).get("hostProcess"):
        bad(HOST_PROCESS, "spec.securityContext.windowsOptions.hostProcess", "must be false or unset")
    for name in HOST_NAMESPACE_FIELDS:
        if spec.get(name):
            bad(HOST_NAMESPACES, f"spec.{name}", "sharing a host namespace is forbidden; must be false or unset")

    for volume in spec.get("volumes") or []:
        where = f"spec.volumes[{volume.get('name', '?')}]"
        if "hostPath" in volume:
            bad(HOSTPATH, f"{where}.hostPath", "hostPath volumes are forbidden")
        kinds = set(volume) - {"name"}
        if not kinds & ALLOWED_VOLUME_TYPES:
            bad(VOLUME_TYPES, where, f"type {sorted(kinds)} is not one of {sorted(ALLOWED_VOLUME_TYPES)}")

    for key, value in (metadata.get("annotations") or {}).items():
        if key.startswith(APPARMOR_ANNOTATION_PREFIX) and not (
                value == "runtime/default" or str(value).startswith("localhost/")):
            bad(APPARMOR, f"metadata.annotations[{key}]", f"{value!r} must be runtime/default or localhost/*")
    if (pod_sc.get("appArmorProfile") or {}).get("type", "RuntimeDefault") not in APPARMOR_TYPES:
        bad(APPARMOR, "spec.securityContext.appArmorProfile.type", "must be RuntimeDefault, Localhost or unset")

    _check_selinux(pod_sc.get("seLinuxOptions"), "spec.securityContext.seLinuxOptions", bad)

    for sysctl in pod_sc.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            bad(SYSCTLS, f"spec.securityContext.sysctls[{sysctl.get('name')}]", "not in the safe sysctl set")

    pod_seccomp = (pod_sc.get("seccompProfile") or {}).get("type")
    if pod_seccomp is not None and pod_seccomp not in SECCOMP_TYPES:
        bad(SECCOMP_BASELINE, "spec.securityContext.seccompProfile.type",
            f"{pod_seccomp!r} must be RuntimeDefault or Localhost")

    # --- Restricted, pod level --------------------------------------------------------------------
    pod_non_root = pod_sc.get("runAsNonRoot")
    if pod_non_root is False:
        bad(RUN_AS_NON_ROOT, "spec.securityContext.runAsNonRoot", "must be true (or unset with every container true)")
    if pod_sc.get("runAsUser") == 0:
        bad(RUN_AS_NON_ROOT_USER, "spec.securityContext.runAsUser", "must not be 0")

    for where, container in _containers(spec):
        _check_container(where, container, pod_non_root is True, pod_seccomp is not None, windows, bad)
    return found


def _check_selinux(options: dict[str, Any] | None, where: str, bad) -> None:
    if not options:
        return
    if options.get("type", "") not in SELINUX_TYPES:
        bad(SELINUX, f"{where}.type", f"{options['type']!r} is not one of {sorted(t for t in SELINUX_TYPES if t)}")
    for key in ("user", "role"):
        if options.get(key):
            bad(SELINUX, f"{where}.{key}", "custom SELinux user/role is forbidden; leave unset")


def _check_container(where: str, container: dict[str, Any], pod_non_root: bool, pod_seccomp_set: bool,
                     windows: bool, bad) -> None:
    sc = container.get("securityContext") or {}
    sc_where = f"{where}.securityContext"

    # Baseline
    if (sc.get("windowsOptions") or {}).get("hostProcess"):
        bad(HOST_PROCESS, f"{sc_where}.windowsOptions.hostProcess", "must be false or unset")
    if sc.get("privileged"):
        bad(PRIVILEGED, f"{sc_where}.privileged", "privileged containers are forbidden; must be false or unset")
    added = set((sc.get("capabilities") or {}).get("add") or [])
    if added - BASELINE_ADDABLE_CAPABILITIES:
        bad(CAPABILITIES_BASELINE, f"{sc_where}.capabilities.add",
            f"{sorted(added - BASELINE_ADDABLE_CAPABILITIES)} are beyond the runtime's default set")
    for port in container.get("ports") or []:
        if port.get("hostPort"):
            bad(HOST_PORTS, f"{where}.ports[{port.get('containerPort')}].hostPort", "host ports are forbidden")
    if (sc.get("appArmorProfile") or {}).get("type", "RuntimeDefault") not in APPARMOR_TYPES:
        bad(APPARMOR, f"{sc_where}.appArmorProfile.type", "must be RuntimeDefault, Localhost or unset")
    _check_selinux(sc.get("seLinuxOptions"), f"{sc_where}.seLinuxOptions", bad)
    if sc.get("procMount", "Default") != "Default":
        bad(PROC_MOUNT, f"{sc_where}.procMount", f"{sc['procMount']!r} must be Default or unset")
    seccomp = (sc.get("seccompProfile") or {}).get("type")
    if seccomp is not None and seccomp not in SECCOMP_TYPES:
        bad(SECCOMP_BASELINE, f"{sc_where}.seccompProfile.type", f"{seccomp!r} must be RuntimeDefault or Localhost")

    # Restricted
    non_root = sc.get("runAsNonRoot")
    if non_root is False:
        bad(RUN_AS_NON_ROOT, f"{sc_where}.runAsNonRoot", "must be true; an explicit false overrides the pod")
    elif non_root is None and not pod_non_root:
        bad(RUN_AS_NON_ROOT, f"{sc_where}.runAsNonRoot",
            "unset here and not true at spec.securityContext.runAsNonRoot; set either to true")
    if sc.get("runAsUser") == 0:
        bad(RUN_AS_NON_ROOT_USER, f"{sc_where}.runAsUser", "must not be 0")
    if windows:  # the next three controls are Linux-only in the standard
        return
    if sc.get("allowPrivilegeEscalation") is not False:
        bad(PRIVILEGE_ESCALATION, f"{sc_where}.allowPrivilegeEscalation",
            "must be set to false explicitly (unset defaults to true)")
    if seccomp is None and not pod_seccomp_set:
        bad(SECCOMP_RESTRICTED, f"{sc_where}.seccompProfile.type",
            "unset here and at spec.securityContext.seccompProfile; set RuntimeDefault on either")
    dropped = set((sc.get("capabilities") or {}).get("drop") or [])
    if "ALL" not in dropped:
        bad(CAPABILITIES_RESTRICTED, f"{sc_where}.capabilities.drop", "must include ALL")
    if added - RESTRICTED_ADDABLE_CAPABILITIES:
        bad(CAPABILITIES_RESTRICTED, f"{sc_where}.capabilities.add",
            f"{sorted(added - RESTRICTED_ADDABLE_CAPABILITIES)} not allowed; only NET_BIND_SERVICE may be added")

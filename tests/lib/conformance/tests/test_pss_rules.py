"""The restricted-PSS checker itself: one compliant pod, then one breach per control.

Each breach must be reported under exactly the control it breaks, so a rule that silently stops
firing (or fires under the wrong name) fails here before it can hide a real violation.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import pytest

from tests.lib.conformance import pss


def compliant_pod() -> dict[str, Any]:
    secure = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
    }
    return {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 50000, "seccompProfile": {"type": "RuntimeDefault"}},
        "initContainers": [{"name": "init", "image": "busybox", "securityContext": dict(secure)}],
        "containers": [{"name": "main", "image": "busybox", "securityContext": copy.deepcopy(secure),
                        "ports": [{"containerPort": 8080}]}],
        "ephemeralContainers": [{"name": "debug", "image": "busybox", "securityContext": copy.deepcopy(secure)}],
        "volumes": [{"name": "cfg", "configMap": {"name": "c"}}, {"name": "tmp", "emptyDir": {}},
                    {"name": "data", "persistentVolumeClaim": {"claimName": "d"}},
                    {"name": "tok", "projected": {"sources": []}}, {"name": "s", "secret": {"secretName": "s"}}],
    }


def main(pod: dict[str, Any]) -> dict[str, Any]:
    return pod["containers"][0]["securityContext"]


def init(pod: dict[str, Any]) -> dict[str, Any]:
    return pod["initContainers"][0]["securityContext"]


def ephemeral(pod: dict[str, Any]) -> dict[str, Any]:
    return pod["ephemeralContainers"][0]["securityContext"]


BREACHES: list[tuple[str, str, Callable[[dict[str, Any]], None]]] = [
    (pss.HOST_PROCESS, "pod hostProcess", lambda p: p["securityContext"].update(windowsOptions={"hostProcess": True})),
    (pss.HOST_NAMESPACES, "hostNetwork", lambda p: p.update(hostNetwork=True)),
    (pss.HOST_NAMESPACES, "hostPID", lambda p: p.update(hostPID=True)),
    (pss.HOST_NAMESPACES, "hostIPC", lambda p: p.update(hostIPC=True)),
    (pss.PRIVILEGED, "privileged init container", lambda p: init(p).update(privileged=True)),
    (pss.PRIVILEGED, "privileged ephemeral container", lambda p: ephemeral(p).update(privileged=True)),
    (pss.HOST_PORTS, "hostPort", lambda p: p["containers"][0]["ports"][0].update(hostPort=8080)),
    (pss.APPARMOR, "unconfined AppArmor field", lambda p: main(p).update(appArmorProfile={"type": "Unconfined"})),
    (pss.APPARMOR, "unconfined AppArmor annotation", None),  # metadata case, see test below
    (pss.SELINUX, "custom SELinux type", lambda p: main(p).update(seLinuxOptions={"type": "spc_t"})),
    (pss.SELINUX, "custom SELinux user", lambda p: p["securityContext"].update(seLinuxOptions={"user": "root"})),
    (pss.PROC_MOUNT, "unmasked /proc", lambda p: main(p).update(procMount="Unmasked")),
    (pss.SYSCTLS, "unsafe sysctl", lambda p: p["securityContext"].update(sysctls=[{"name": "kernel.msgmax",
                                                                                   "value": "1"}])),
    (pss.PRIVILEGE_ESCALATION, "allowPrivilegeEscalation unset", lambda p: main(p).pop("allowPrivilegeEscalation")),
    (pss.PRIVILEGE_ESCALATION, "allowPrivilegeEscalation true", lambda p: init(p).update(allowPrivilegeEscalation=True)),
    (pss.RUN_AS_NON_ROOT, "container runAsNonRoot false", lambda p: main(p).update(runAsNonRoot=False)),
    (pss.RUN_AS_NON_ROOT_USER, "container runs as uid 0", lambda p: ephemeral(p).update(runAsUser=0)),
    (pss.RUN_AS_NON_ROOT_USER, "pod runs as uid 0", lambda p: p["securityContext"].update(runAsUser=0)),
    (pss.CAPABILITIES_RESTRICTED, "drop lacks ALL", lambda p: main(p).update(capabilities={"drop": ["NET_RAW"]})),
    (pss.CAPABILITIES_RESTRICTED, "adds CHOWN", lambda p: main(p)["capabilities"].update(add=["CHOWN"])),
]


@pytest.mark.parametrize("control,breach", [(c, f) for c, _, f in BREACHES if f],
                         ids=[label for _, label, f in BREACHES if f])
def test_each_breach_is_reported_under_its_control(control, breach):
    pod = compliant_pod()
    breach(pod)
    controls = {v.control for v in pss.check_pod(pod)}
    assert controls == {control}, pss.check_pod(pod)


def test_compliant_pod_passes():
    assert pss.check_pod(compliant_pod()) == []


def test_every_control_name_is_exercised_or_listed():
    exercised = {c for c, _, _ in BREACHES} | {pss.HOSTPATH, pss.VOLUME_TYPES, pss.SECCOMP_BASELINE,
                                               pss.SECCOMP_RESTRICTED, pss.CAPABILITIES_BASELINE}
    assert exercised == set(pss.CONTROLS)


def test_apparmor_annotation_must_keep_runtime_default():
    pod = compliant_pod()
    ok = {"annotations": {pss.APPARMOR_ANNOTATION_PREFIX + "main": "runtime/default"}}
    bad = {"annotations": {pss.APPARMOR_ANNOTATION_PREFIX + "main": "unconfined"}}
    assert pss.check_pod(pod, ok) == []
    assert {v.control for v in pss.check_pod(pod, bad)} == {pss.APPARMOR}


def test_hostpath_breaks_both_baseline_and_volume_types():
    pod = compliant_pod()
    pod["volumes"].append({"name": "host", "hostPath": {"path": "/var/run"}})
    assert {v.control for v in pss.check_pod(pod)} == {pss.HOSTPATH, pss.VOLUME_TYPES}


def test_non_core_volume_type_is_refused():
    pod = compliant_pod()
    pod["volumes"].append({"name": "share", "nfs": {"server": "nfs", "path": "/"}})
    violations = pss.check_pod(pod)
    assert [(v.control, v.field) for v in violations] == [(pss.VOLUME_TYPES, "spec.volumes[share]")]


def test_capability_outside_default_set_breaks_both_capability_controls():
    pod = compliant_pod()
    main(pod)["capabilities"]["add"] = ["SYS_ADMIN"]
    assert {v.control for v in pss.check_pod(pod)} == {pss.CAPABILITIES_BASELINE, pss.CAPABILITIES_RESTRICTED}


def test_net_bind_service_may_be_added():
    pod = compliant_pod()
    main(pod)["capabilities"]["add"] = ["NET_BIND_SERVICE"]
    assert pss.check_pod(pod) == []


class TestInheritance:
    """Pod-level runAsNonRoot and seccompProfile cover containers that leave them unset."""

    def test_container_level_fields_suffice_without_pod_level(self):
        pod = compliant_pod()
        pod["securityContext"] = {}
        for container in pod["initContainers"] + pod["containers"] + pod["ephemeralContainers"]:
            container["securityContext"].update(runAsNonRoot=True, seccompProfile={"type": "RuntimeDefault"})
        assert pss.check_pod(pod) == []

    def test_one_container_without_pod_level_non_root_fails(self):
        pod = compliant_pod()
        pod["securityContext"].pop("runAsNonRoot")
        for container in pod["containers"] + pod["ephemeralContainers"]:
            container["securityContext"]["runAsNonRoot"] = True
        violations = pss.check_pod(pod)
        assert [(v.control, v.field) for v in violations] == [
            (pss.RUN_AS_NON_ROOT, "spec.initContainers[init].securityContext.runAsNonRoot")]

    def test_pod_level_false_fails_even_if_containers_are_true(self):
        pod = compliant_pod()
        pod["securityContext"]["runAsNonRoot"] = False
        for container in pod["initContainers"] + pod["containers"] + pod["ephemeralContainers"]:
            container["securityContext"]["runAsNonRoot"] = True
        assert [v.field for v in pss.check_pod(pod)] == ["spec.securityContext.runAsNonRoot"]

    def test_missing_seccomp_everywhere_fails_per_container(self):
        pod = compliant_pod()
        pod["securityContext"].pop("seccompProfile")
        violations = pss.check_pod(pod)
        assert {v.control for v in violations} == {pss.SECCOMP_RESTRICTED}
        assert len(violations) == 3  # init, main and ephemeral container

    def test_container_seccomp_unconfined_overrides_pod_runtime_default(self):
        pod = compliant_pod()
        main(pod)["seccompProfile"] = {"type": "Unconfined"}
        assert {v.control for v in pss.check_pod(pod)} == {pss.SECCOMP_BASELINE}

    def test_pod_seccomp_unconfined_is_refused(self):
        pod = compliant_pod()
        pod["securityContext"]["seccompProfile"] = {"type": "Unconfined"}
        assert {v.control for v in pss.check_pod(pod)} == {pss.SECCOMP_BASELINE}

    def test_windows_pod_is_exempt_from_linux_only_controls(self):
        pod = compliant_pod()
        pod["os"] = {"name": "windows"}
        pod["securityContext"].pop("seccompProfile")
        for container in pod["initContainers"] + pod["containers"] + pod["ephemeralContainers"]:
            container["securityContext"] = {}
        assert pss.check_pod(pod) == []

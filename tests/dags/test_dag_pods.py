"""Every pod the bundle would launch, as the provider builds it: valid, restricted, sized, allowed, backed.

The pods come from tests/lib/dag_bundle/bundle_pods.py (real provider code, no cluster). Each test walks
all of them and lists every offending pod in one failure message.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.lib.conformance import k8s_names, k8s_schema, pss, rbac
from tests.lib.dag_bundle import dev_objects
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import worker_pod_template
from tests.lib.render.helm_template import NAMESPACE as RELEASE_NAMESPACE
from tests.lib.render.helm_template import render

MAIN_CONTAINER = "base"  # KubernetesPodOperator's name for the task's own container
XCOM_SIDECAR = "airflow-xcom-sidecar"
# What KubernetesPodOperator does with pods (create, watch, read logs, delete or patch when done);
# a pod with the XCom sidecar is also exec'd into to read the result.
POD_VERBS = {"create", "get", "list", "watch", "delete", "patch"}
EXEC_VERBS = {"create"}


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod["spec"]
    return [*(spec.get("initContainers") or []), *spec["containers"]]


def _fail_if(problems: list[str]) -> None:
    assert not problems, "\n".join(problems)


def test_the_bundle_launches_pods(pods):
    # 9 DAGs with pod tasks; the mapping DAG expands to 3 pods, the fan-out to 10 (its default
    # `items`), and the TaskFlow DAG has 2.
    assert len(pods) == 21
    assert {p.dag_id for p in pods} >= {"kubernetes-dag", "kubernetes-pod-mapping", "kubernetes-taskflow"}


@pytest.mark.parametrize("version", k8s_schema.SUPPORTED_VERSIONS[-1:] + k8s_schema.SUPPORTED_VERSIONS[:1])
def test_pods_match_the_kubernetes_schema(pods, version):
    _fail_if([f"{p.label}: {err}" for p in pods for err in k8s_schema.validate(p.pod, version)])


def test_every_name_a_pod_uses_is_a_valid_kubernetes_name(pods):
    problems = []
    for p in pods:
        meta, spec = p.pod["metadata"], p.pod["spec"]
        checks = [k8s_names.dns1123_subdomain_error(meta["name"]), k8s_names.dns1123_label_error(meta["namespace"])]
        checks += [k8s_names.label_key_error(k) or k8s_names.label_value_error(v) for k, v in meta["labels"].items()]
        checks += [k8s_names.dns1123_subdomain_error(s["name"]) for s in spec.get("imagePullSecrets") or []]
        for volume in spec.get("volumes") or []:
            checks.append(k8s_names.dns1123_label_error(volume["name"]))
            ref = (volume.get("configMap") or {}).get("name") or (volume.get("secret") or {}).get("secretName")
            checks.append(ref and k8s_names.dns1123_subdomain_error(ref))
        for container in _containers(p.pod):
            checks.append(k8s_names.dns1123_label_error(container["name"]))
            for env in container.get("env") or []:
                checks.append(k8s_names.env_var_name_error(env["name"]))
                source = env.get("valueFrom") or {}
                ref = (source.get("secretKeyRef") or source.get("configMapKeyRef") or {}).get("name")
                checks.append(ref and k8s_names.dns1123_subdomain_error(ref))
            for env_from in container.get("envFrom") or []:
                ref = (env_from.get("secretRef") or env_from.get("configMapRef") or {}).get("name")
                checks.append(k8s_names.dns1123_subdomain_error(ref))
        problems += [f"{p.label}: {c}" for c in checks if c]
    _fail_if(problems)


def test_the_seeds_original_names_would_be_refused():
    """Why the seed DAG renames its objects: the API server rejects names with underscores."""
    assert k8s_names.dns1123_subdomain_error("test_env")
    assert k8s_names.dns1123_subdomain_error("image_credential")
    assert k8s_names.dns1123_subdomain_error("test-env") is None


def test_pods_satisfy_the_restricted_pod_security_standard(pods):
    _fail_if([f"{p.label}: {v}" for p in pods for v in pss.check_pod(p.pod["spec"], p.pod["metadata"])])


def test_restricted_fields_are_set_explicitly_on_pod_and_every_container(pods):
    """Not only compliant by inheritance: each container, the XCom sidecar included, says it itself."""
    problems = []
    for p in pods:
        pod_sc = p.pod["spec"].get("securityContext") or {}
        if not (pod_sc.get("runAsNonRoot") and pod_sc.get("runAsUser", 0) > 0
                and (pod_sc.get("seccompProfile") or {}).get("type") == "RuntimeDefault"):
            problems.append(f"{p.label}: pod securityContext {pod_sc}")
        for c in _containers(p.pod):
            sc = c.get("securityContext") or {}
            ok = (sc.get("runAsNonRoot") is True and sc.get("runAsUser", 0) > 0
                  and sc.get("allowPrivilegeEscalation") is False
                  and (sc.get("capabilities") or {}).get("drop") == ["ALL"]
                  and (sc.get("seccompProfile") or {}).get("type") == "RuntimeDefault")
            if not ok:
                problems.append(f"{p.label} container {c['name']}: securityContext {sc}")
    _fail_if(problems)


def test_containers_have_a_read_only_root_filesystem(pods):
    problems = [f"{p.label} container {c['name']}: root filesystem is writable" for p in pods
                for c in _containers(p.pod) if (c.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True]
    _fail_if(problems)


def test_pods_mount_no_service_account_token(pods):
    """Task pods never call the Kubernetes API, so they get no token to leak."""
    _fail_if([f"{p.label}: automountServiceAccountToken is not false" for p in pods
              if p.pod["spec"].get("automountServiceAccountToken") is not False])


def test_xcom_pods_carry_the_sidecar(pods):
    """The XCom and TaskFlow patterns push results, so the provider must have added its sidecar."""
    with_sidecar = {p.label for p in pods if any(c["name"] == XCOM_SIDECAR for c in p.pod["spec"]["containers"])}
    assert with_sidecar == {"kubernetes-pod-xcom.count_rows", "kubernetes-taskflow.summarise"}


def test_main_containers_have_cpu_and_memory_requests_and_limits(pods):
    problems = []
    for p in pods:
        (main,) = [c for c in p.pod["spec"]["containers"] if c["name"] == MAIN_CONTAINER]
        resources = main.get("resources") or {}
        for kind in ("requests", "limits"):
            missing = {"cpu", "memory"} - set(resources.get(kind) or {})
            if missing:
                problems.append(f"{p.label}: {kind} lacks {sorted(missing)}")
    _fail_if(problems)


def test_every_container_has_requests_and_limits(pods):
    # The XCom sidecar's resources come from the `kubernetes_default` connection the chart sets on
    # worker pods (workers.podOperator.xcomSidecarResources); without it the sidecar has no limits.
    problems = [f"{p.label} container {c['name']}: {kind} lacks {sorted({'cpu', 'memory'} - set(have))}"
                for p in pods for c in _containers(p.pod) for kind in ("requests", "limits")
                if {"cpu", "memory"} - set(have := (c.get("resources") or {}).get(kind) or {})]
    _fail_if(problems)


def _worker_service_account(rendered) -> str:
    """The ServiceAccount of the chart's worker pod template (the pod that runs KubernetesPodOperator)."""
    return worker_pod_template(rendered)["spec"]["serviceAccountName"]


def _launch_grants(rendered) -> dict[str, dict[str, list[str]]]:
    """Namespace -> resource -> verbs the worker ServiceAccount holds, from the rendered RBAC."""
    subject = f"{RELEASE_NAMESPACE}/{_worker_service_account(rendered)}"
    return rbac.effective_permissions(rendered.objects, RELEASE_NAMESPACE).get(subject, {})


@pytest.mark.parametrize("scenario", [scenarios.DEV, scenarios.PROD], ids=lambda s: s.name)
def test_pod_namespaces_are_granted_to_the_worker_by_the_chart(pods, scenario):
    grants = _launch_grants(render(scenario))
    missing: dict[tuple[str, str], set[str]] = {}  # (namespace, resource) -> verbs
    tasks: dict[str, set[str]] = {}  # namespace -> pod tasks that need it
    for p in pods:
        namespace = p.pod["metadata"]["namespace"]
        held = {**grants.get(namespace, {}), **grants.get(rbac.CLUSTER_WIDE, {})}
        needed = {"pods": POD_VERBS, "pods/log": {"get"}}
        if any(c["name"] == XCOM_SIDECAR for c in p.pod["spec"]["containers"]):
            needed["pods/exec"] = EXEC_VERBS
        for resource, verbs in needed.items():
            lacking = verbs - set(held.get(resource, []))
            if lacking:
                missing.setdefault((namespace, resource), set()).update(lacking)
                tasks.setdefault(namespace, set()).add(f"{p.dag_id}.{p.task_id}")
    _fail_if([f"values/{scenario.name}.yaml: the worker may not {sorted(verbs)} {resource} in namespace "
              f"{namespace} (add it to rbac.podLaunchNamespaces); needed by {len(tasks[namespace])} pod tasks"
              for (namespace, resource), verbs in sorted(missing.items())])


# What the triggerer does with a deferred pod (KubernetesPodTrigger): read it, stream its logs, watch
# its events, and delete it when the wait times out.
TRIGGERER_NEEDS = {"pods": {"get", "delete"}, "pods/log": {"get"}, "events": {"list", "watch"}}


def _triggerer(rendered) -> dict[str, Any]:
    """The pod spec of the chart's triggerer Deployment."""
    found = [d["spec"]["template"]["spec"] for d in rendered.all("Deployment")
             if any("triggerer" in c.get("args", []) or "triggerer" in c.get("command", [])
                    for c in d["spec"]["template"]["spec"]["containers"])]
    assert len(found) == 1, f"expected one triggerer Deployment, found {len(found)}"
    return found[0]


def test_the_bundle_has_a_deferrable_pod(pods):
    assert {p.label for p in pods if p.deferrable} == {"kubernetes-pod-deferrable.long_running_pod"}


@pytest.mark.parametrize("scenario", [scenarios.DEV, scenarios.PROD], ids=lambda s: s.name)
def test_the_triggerer_may_watch_deferred_pods(pods, scenario):
    """In deferrable mode the triggerer talks to the API server with its own ServiceAccount."""
    rendered = render(scenario)
    triggerer = _triggerer(rendered)
    subject = f"{RELEASE_NAMESPACE}/{triggerer.get('serviceAccountName', 'default')}"
    grants = rbac.effective_permissions(rendered.objects, RELEASE_NAMESPACE).get(subject, {})
    problems = []
    if triggerer.get("automountServiceAccountToken") is False:
        problems.append(f"values/{scenario.name}.yaml: the triggerer mounts no ServiceAccount token, so it "
                        "cannot reach the API server to watch deferred pods")
    for namespace in sorted({p.pod["metadata"]["namespace"] for p in pods if p.deferrable}):
        held = {**grants.get(namespace, {}), **grants.get(rbac.CLUSTER_WIDE, {})}
        for resource, verbs in TRIGGERER_NEEDS.items():
            lacking = verbs - set(held.get(resource, []))
            if lacking:
                problems.append(f"values/{scenario.name}.yaml: the triggerer ({subject}) may not {sorted(lacking)} "
                                f"{resource} in namespace {namespace}")
    _fail_if(problems)


def _references(pod: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(kind, name, key or None) of every Secret and ConfigMap the pod needs to start."""
    refs: list[tuple[str, str, str | None]] = []
    spec = pod["spec"]
    refs += [("PullSecret", s["name"], None) for s in spec.get("imagePullSecrets") or []]
    for volume in spec.get("volumes") or []:
        if volume.get("configMap"):
            refs.append(("ConfigMap", volume["configMap"]["name"], None))
        if volume.get("secret"):
            refs.append(("Secret", volume["secret"]["secretName"], None))
    for c in _containers(pod):
        for env in c.get("env") or []:
            source = env.get("valueFrom") or {}
            if source.get("secretKeyRef"):
                refs.append(("Secret", source["secretKeyRef"]["name"], source["secretKeyRef"]["key"]))
            if source.get("configMapKeyRef"):
                refs.append(("ConfigMap", source["configMapKeyRef"]["name"], source["configMapKeyRef"]["key"]))
        for env_from in c.get("envFrom") or []:
            if env_from.get("secretRef"):
                refs.append(("Secret", env_from["secretRef"]["name"], None))
            if env_from.get("configMapRef"):
                refs.append(("ConfigMap", env_from["configMapRef"]["name"], None))
    return refs


def test_every_referenced_secret_and_configmap_is_created_by_make_dev_objects(pods):
    created = dev_objects.load()
    problems = []
    for p in pods:
        namespace = p.pod["metadata"]["namespace"]
        for kind, name, key in _references(p.pod):
            if kind == "PullSecret":
                if name not in created.names("Secret", namespace, dev_objects.PULL_SECRET_TYPE):
                    problems.append(f"{p.label}: pull secret {namespace}/{name} is not a dockerconfigjson "
                                    f"Secret in {dev_objects.FILE.name}")
            elif name not in created.names(kind, namespace):
                problems.append(f"{p.label}: {kind} {namespace}/{name} is not in {dev_objects.FILE.name}")
            elif key is not None and key not in created.keys(kind, namespace, name):
                problems.append(f"{p.label}: {kind} {namespace}/{name} has no key {key!r}")
    _fail_if(problems)


def test_the_seed_references_what_the_dev_setup_creates(pods):
    """The reference check above really sees the seed's three objects (it cannot pass vacuously)."""
    (seed,) = [p for p in pods if p.dag_id == "kubernetes-dag"]
    assert sorted(_references(seed.pod)) == [
        ("ConfigMap", "secret", None), ("PullSecret", "image-credential", None), ("Secret", "test-env", "TEST"),
    ]

"""One release through its life on a real API server: upgrade, config change, JWT rotation, test, uninstall.

The tests run in file order against one install (values/dev.yaml, fresh namespaces):
1. `helm upgrade` with the same values keeps every generated secret (the chart reads them back
   with `lookup`);
2. a `config` change rewrites the ConfigMap and its checksum annotation, so exactly the workloads
   that mount the ConfigMap get a new pod template and new pods; the PostgreSQL StatefulSet stays;
3. a new JWT secret (the Secret's data patched, then the same upgrade) rolls the api-server, which
   checks task tokens, together with the scheduler, which signs them;
4. `helm test` passes;
5. `helm uninstall` leaves only what the chart says outlives it (NOTES.txt: the PostgreSQL claim
   and the `-postgresql` and `-fernet-key` Secrets, marked helm.sh/resource-policy: keep), shown by
   listing every namespaced kind the API server serves.

On the local control plane "new pods" are real API objects from the Deployment controller, but
KWOK reports them Ready without running a container.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.lib.cluster.target import ClusterTarget
from tests.lib.installs.release import RELEASE, Release, installed

GENERATED_SECRETS = {  # Secret name -> key; all generated on install by values/dev.yaml
    f"{RELEASE}-fernet-key": "fernet-key",
    f"{RELEASE}-jwt-secret": "jwt-secret",
    f"{RELEASE}-api-secret-key": "api-secret-key",
    f"{RELEASE}-postgresql": "password",
    f"{RELEASE}-simple-auth-passwords": "passwords.json",
}
CONFIG_MAP = f"{RELEASE}-config"
JWT_SECRET = f"{RELEASE}-jwt-secret"
KEEP_ANNOTATION = "helm.sh/resource-policy"
# What every namespace holds without any release: the cluster's own, not the chart's.
CLUSTER_OWN = {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}
# Records of what happened, not objects anything created for the release to keep.
RECORD_KINDS = {"Event"}


@pytest.fixture(scope="module")
def release(cluster_target: ClusterTarget) -> Iterator[Release]:
    with installed(cluster_target, "e2e-lifecycle") as r:
        yield r


def secret_values(release: Release) -> dict[str, str]:
    return {
        name: base64.b64decode(release.kubectl_json("get", "secret", name)["data"][key]).decode()
        for name, key in GENERATED_SECRETS.items()
    }


def workloads(release: Release) -> dict[str, dict[str, Any]]:
    """ "Deployment/<name>" and "StatefulSet/<name>" -> the live object."""
    found = {}
    for kind in ("Deployment", "StatefulSet"):
        for item in release.kubectl_json("get", kind.lower())["items"]:
            found[f"{kind}/{item['metadata']['name']}"] = item
    return found


def pod_names(release: Release) -> set[str]:
    """The pods not being deleted (on kind an old pod may still be terminating after a rollout)."""
    pods = release.kubectl_json("get", "pods")["items"]
    return {p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp")}


def mounts_config(workload: dict[str, Any]) -> bool:
    volumes = workload["spec"]["template"]["spec"].get("volumes", [])
    return any((v.get("configMap") or {}).get("name") == CONFIG_MAP for v in volumes)


def changed_templates(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> set[str]:
    return {name for name in before if before[name]["spec"]["template"] != after[name]["spec"]["template"]}


def test_upgrade_with_the_same_values_keeps_every_generated_secret(release: Release) -> None:
    before = secret_values(release)
    templates_before = workloads(release)

    result = release.upgrade()

    assert result.returncode == 0, result.stderr
    assert secret_values(release) == before
    # Same secrets and config give the same checksums: nothing rolls.
    assert changed_templates(templates_before, workloads(release)) == set()


def test_config_change_rolls_exactly_the_workloads_that_mount_the_config(release: Release) -> None:
    before = workloads(release)
    pods_before = pod_names(release)
    mounting = {name for name, w in before.items() if mounts_config(w)}
    assert mounting, f"no workload mounts ConfigMap {CONFIG_MAP}"
    assert not any(name.startswith("StatefulSet/") for name in mounting)

    result = release.upgrade("--set", "config.core.parallelism=33")

    assert result.returncode == 0, result.stderr
    cfg = release.kubectl_json("get", "configmap", CONFIG_MAP)["data"]
    assert any("parallelism = 33" in text for text in cfg.values()), cfg
    after = workloads(release)
    assert changed_templates(before, after) == mounting
    for name in mounting:
        old = before[name]["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        assert after[name]["spec"]["template"]["metadata"]["annotations"]["checksum/config"] != old, name
    # The rollout replaced the pods of the rolled Deployments; the database pod is the same one.
    statefulset_pods = {
        p
        for p in pods_before
        if any(p.startswith(n.split("/")[1] + "-") for n in before if n.startswith("StatefulSet/"))
    }
    assert pod_names(release) & pods_before == statefulset_pods


def test_new_jwt_secret_rolls_api_server_and_scheduler_together(release: Release) -> None:
    before = workloads(release)
    token_pods = {p for p in pod_names(release) if p.startswith((f"{RELEASE}-api-server-", f"{RELEASE}-scheduler-"))}
    new_secret = secrets.token_urlsafe(36)
    patch = {"data": {"jwt-secret": base64.b64encode(new_secret.encode()).decode()}}
    release.target.kubectl("patch", "secret", JWT_SECRET, "-n", release.namespace, "-p", json.dumps(patch))

    result = release.upgrade("--set", "config.core.parallelism=33")  # the values of the previous step

    assert result.returncode == 0, result.stderr
    assert secret_values(release)[JWT_SECRET] == new_secret, "the upgrade replaced the rotated JWT secret"
    after = workloads(release)
    rolled = changed_templates(before, after)
    assert {f"Deployment/{RELEASE}-api-server", f"Deployment/{RELEASE}-scheduler"} <= rolled, rolled
    jwt_sums = {
        name: after[name]["spec"]["template"]["metadata"]["annotations"]["checksum/jwt-secret"]
        for name in (f"Deployment/{RELEASE}-api-server", f"Deployment/{RELEASE}-scheduler")
    }
    assert len(set(jwt_sums.values())) == 1, jwt_sums
    assert token_pods and not token_pods & pod_names(release), "old api-server or scheduler pods still run"
    assert f"StatefulSet/{RELEASE}-postgresql" not in rolled


def test_helm_test_passes(release: Release) -> None:
    # On the local control plane the test pod's container does not run: KWOK moves the bare pod
    # to Succeeded (hack/cluster/kwok/stages.yaml). This proves the test hook is admitted under the
    # restricted standard and that Helm sees it finish; on kind the probe really runs.
    result = release.helm("test", RELEASE, "--timeout", "3m")
    assert result.returncode == 0, result.stderr
    assert "Phase:          Succeeded" in result.stdout, result.stdout


def documented_leftovers(release: Release) -> set[tuple[str, str]]:
    """What the release's own manifest says outlives uninstall: kept objects and StatefulSet claims."""
    manifest = release.helm("get", "manifest", RELEASE).stdout
    kept = set()
    for doc in yaml.safe_load_all(manifest):
        if not doc:
            continue
        meta = doc["metadata"]
        if (meta.get("annotations") or {}).get(KEEP_ANNOTATION) == "keep":
            kept.add((doc["kind"], meta["name"]))
        if doc["kind"] == "StatefulSet":
            for claim in doc["spec"].get("volumeClaimTemplates", []):
                for ordinal in range(doc["spec"].get("replicas", 1)):
                    kept.add(("PersistentVolumeClaim", f"{claim['metadata']['name']}-{meta['name']}-{ordinal}"))
    return kept


def namespaced_objects(target: ClusterTarget, namespace: str) -> set[tuple[str, str]]:
    """(kind, name) of every object in the namespace, over every namespaced kind that can be listed."""
    kinds = target.kubectl("api-resources", "--namespaced=true", "--verbs=list", "-o", "name").stdout.split()
    items = target.kubectl_json("get", ",".join(kinds), "-n", namespace, "--ignore-not-found")
    return {(o["kind"], o["metadata"]["name"]) for o in items.get("items", [])}


def test_uninstall_leaves_only_what_the_chart_documents(release: Release) -> None:
    expected = documented_leftovers(release)
    assert {kind for kind, _ in expected} == {"Secret", "PersistentVolumeClaim"}, expected
    notes = release.helm("get", "notes", RELEASE).stdout
    for kind, name in expected:
        if kind == "Secret":
            assert name in notes, f"NOTES.txt does not tell users that Secret {name} outlives uninstall"

    result = release.uninstall()
    assert result.returncode == 0, result.stderr

    # Dependents (ReplicaSets, pods, EndpointSlices, ControllerRevisions) go by garbage collection,
    # after `helm uninstall` returns: give it a little time.
    deadline = time.monotonic() + 60
    while True:
        left = {o for o in namespaced_objects(release.target, release.namespace) if o[0] not in RECORD_KINDS}
        if left - CLUSTER_OWN == expected or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert left - CLUSTER_OWN == expected

"""Worker pods owned by the release (workers.deleteWithRelease, files/scripts/worker_owner.py).

The scheduler's init container reads the pod-template ConfigMap's uid from the API server and writes
the template the KubernetesExecutor reads with an ownerReference to it; Airflow's own PodGenerator
keeps that reference on the pod it builds. Here: the rendered scheduler and its Role, the template
as the script writes it and as Airflow builds a pod from it, and the script's read of the ConfigMap
over HTTPS from a server that checks the token as the API server would (a real TLS handshake against
the CA file it is given). The live uninstall: tests/e2e/test_uninstall_mid_run.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import yaml

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import worker_pod_as_executor_builds
from tests.lib.render.helm_template import Rendered, Scenario, render
from tests.lib.render.startup_scripts import worker_owner
from tests.lib.test_servers.local_api_server import local_api_server
from tests.lib.test_servers.private_ca import PrivateCa

CONFIGMAP = "airflow-pod-template"
UID = "6f1c2b9e-4d3a-4f7e-9a51-0c8d2e7b1a44"
TOKEN = "scheduler-token"
NOT_OWNED = Scenario.of("workers-not-owned", {"workers": {"deleteWithRelease": False}})


def scheduler_spec(rendered: Rendered) -> dict:
    return rendered.get("Deployment", "airflow-scheduler")["spec"]["template"]["spec"]


def volume(spec: dict, name: str) -> dict:
    return next(v for v in spec["volumes"] if v["name"] == name)


def configmap_rules(rendered: Rendered) -> list[dict]:
    role = rendered.get("Role", "airflow-pod-manager")
    return [rule for rule in role["rules"] if "configmaps" in rule["resources"]]


def test_by_default_the_scheduler_writes_the_owned_template_into_a_small_empty_dir():
    rendered = render(scenarios.DEFAULT)
    spec = scheduler_spec(rendered)
    init = next(c for c in spec["initContainers"] if c["name"] == "own-worker-pods")
    assert init["args"][-2:] == ["/opt/airflow/pod-template-source/pod_template_file.yaml",
                                 "/opt/airflow/pod_templates/pod_template_file.yaml"]  # fmt: skip
    assert init["args"][init["args"].index("--configmap") + 1] == CONFIGMAP
    assert volume(spec, "pod-template-source")["configMap"]["name"] == CONFIGMAP
    assert volume(spec, "pod-template")["emptyDir"] == {"sizeLimit": "1Mi"}
    scheduler = next(c for c in spec["containers"] if c["name"] == "scheduler")
    mount = next(m for m in scheduler["volumeMounts"] if m["name"] == "pod-template")
    assert mount["mountPath"] == "/opt/airflow/pod_templates"  # [kubernetes_executor] pod_template_file's folder
    assert configmap_rules(rendered) == [{"apiGroups": [""], "resources": ["configmaps"],
                                          "resourceNames": [CONFIGMAP], "verbs": ["get"]}]  # fmt: skip


def test_turned_off_the_scheduler_mounts_the_configmap_and_may_not_read_it():
    rendered = render(NOT_OWNED)
    spec = scheduler_spec(rendered)
    assert "own-worker-pods" not in [c["name"] for c in spec["initContainers"]]
    assert volume(spec, "pod-template")["configMap"]["name"] == CONFIGMAP
    assert configmap_rules(rendered) == []


def owner() -> dict:
    return worker_owner.owner_reference({"metadata": {"name": CONFIGMAP, "uid": UID, "namespace": "airflow"}})


def test_the_pod_airflow_builds_from_the_written_template_is_owned_by_the_configmap():
    rendered = render(scenarios.DEFAULT)
    source = rendered.get("ConfigMap", CONFIGMAP)["data"]["pod_template_file.yaml"]
    pod = worker_pod_as_executor_builds(rendered, worker_owner.owned_template(source, owner()))
    assert pod["metadata"]["ownerReferences"] == [{"apiVersion": "v1", "kind": "ConfigMap", "name": CONFIGMAP, "uid": UID}]
    # Nothing else of the template changed on the way.
    plain = worker_pod_as_executor_builds(rendered)
    assert {k: v for k, v in pod["metadata"].items() if k != "ownerReferences"} == plain["metadata"]
    assert pod["spec"] == plain["spec"]


def test_writing_the_template_again_keeps_one_reference_and_the_template_own():
    template = yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "team-owner", "uid": "1"}]}, "spec": {"containers": []}})  # fmt: skip
    twice = worker_owner.owned_template(worker_owner.owned_template(template, owner()), owner())
    assert [r["name"] for r in yaml.safe_load(twice)["metadata"]["ownerReferences"]] == ["team-owner", CONFIGMAP]


def test_a_template_that_is_not_a_pod_is_refused_with_what_it_should_be():
    with pytest.raises(worker_owner.OwnerError, match="not a Pod manifest"):
        worker_owner.owned_template("kind: ConfigMap\n", owner())


class FakeApiServer(BaseHTTPRequestHandler):
    """Answers GET /api/v1/namespaces/airflow/configmaps/<CONFIGMAP> for the bearer TOKEN, as the API
    server does: 401 without it, 403 for another ConfigMap (the Role names one), the object as JSON."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.answer(401, {"kind": "Status", "reason": "Unauthorized"})
        if self.path != f"/api/v1/namespaces/airflow/configmaps/{CONFIGMAP}":
            return self.answer(403, {"kind": "Status", "reason": "Forbidden"})
        return self.answer(200, {"kind": "ConfigMap", "metadata": {"name": CONFIGMAP, "namespace": "airflow", "uid": UID}})

    def answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def api_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The stand-in API server and the ServiceAccount folder as the kubelet mounts it; yields the folder."""
    with local_api_server(FakeApiServer, tmp_path, TOKEN) as (account, port):
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "localhost")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(port))
        yield account


def test_the_uid_is_read_over_tls_with_the_pods_token(api_server: Path):
    assert worker_owner.read_configmap(CONFIGMAP, api_server)["metadata"]["uid"] == UID


def test_a_configmap_the_role_does_not_name_fails_saying_what_to_grant(api_server: Path):
    with pytest.raises(worker_owner.OwnerError, match=r"HTTP 403 .*Role must allow get on it"):
        worker_owner.read_configmap("other", api_server)


def test_a_server_whose_certificate_the_ca_did_not_sign_is_refused(api_server: Path):
    (api_server / "ca.crt").write_bytes(PrivateCa("another-ca").pem)
    with pytest.raises(worker_owner.OwnerError, match="CERTIFICATE_VERIFY_FAILED"):
        worker_owner.read_configmap(CONFIGMAP, api_server)


def test_the_command_writes_the_owned_template_and_exits_with_one_line_when_it_cannot(
    api_server: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    source, target = tmp_path / "source.yaml", tmp_path / "target.yaml"
    source.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: template}\nspec: {containers: []}\n")
    monkeypatch.setattr(worker_owner, "SERVICE_ACCOUNT", api_server)
    worker_owner.main(str(source), str(target), CONFIGMAP)
    assert yaml.safe_load(target.read_text())["metadata"]["ownerReferences"][0]["uid"] == UID
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
    with pytest.raises(SystemExit, match="own-worker-pods: KUBERNETES_SERVICE_HOST is unset"):
        worker_owner.main(str(source), str(target), CONFIGMAP)

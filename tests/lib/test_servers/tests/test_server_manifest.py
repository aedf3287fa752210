"""server_manifest builds each in-cluster test server's objects from its spec: the names, ports, images,
probes and security context the e2e tests and the servers' clients rely on, valid for every Kubernetes
the chart supports and admitted by the restricted Pod Security Standard the tests' namespaces enforce."""

from __future__ import annotations

from typing import Any

import pytest

from tests.lib.conformance import k8s_schema, pss
from tests.lib.test_servers import external_db, git_server, object_store, prometheus_server
from tests.lib.test_servers.metrics_tools import PROMETHEUS_IMAGE
from tests.lib.test_servers.server_manifest import READINESS_PERIOD_S, Port, ServerSpec, Volume, server_objects

# What each server's clients rely on: (module, its image, container name, uid, Service ports as
# (name, port, container port), the readiness probe's handler).
SERVERS = {
    "external_db": (external_db, external_db.IMAGE, "postgresql", 10001, [("postgresql", 5432, 5432)],
                    {"exec": {"command": ["pg_isready", "--host", "127.0.0.1", "--username", external_db.USER,
                                          "--dbname", external_db.DATABASE]}}),
    "object_store": (object_store, object_store.IMAGE, "s3", 10003, [("s3", object_store.PORT, object_store.PORT)],
                     {"tcpSocket": {"port": object_store.PORT}}),
    # https://<host>/git/... and git@<host>:... : git's usual ports on the Service.
    "git_server": (git_server, git_server.IMAGE, "git-server", 10002, [("https", 443, 8443), ("ssh", 22, 2222)],
                   {"tcpSocket": {"port": 8443}}),
    "prometheus_server": (prometheus_server, PROMETHEUS_IMAGE, "prometheus", 65534,
                          [("http", prometheus_server.PORT, prometheus_server.PORT)],
                          {"httpGet": {"path": "/-/ready", "port": prometheus_server.PORT}}),
}  # fmt: skip


def by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    kinds = [o["kind"] for o in objects]
    assert len(kinds) == len(set(kinds)), kinds
    return {o["kind"]: o for o in objects}


@pytest.mark.parametrize("server", SERVERS)
def test_the_service_selects_the_servers_pod_at_the_ports_its_clients_use(server):
    module, _image, container_name, _uid, ports, _probe = SERVERS[server]
    objects = by_kind(server_objects(module.SERVER))
    service, deployment = objects["Service"], objects["Deployment"]
    name = module.NAME
    assert service["metadata"]["name"] == deployment["metadata"]["name"] == name
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"] == {"app": name}
    assert deployment["spec"]["template"]["metadata"]["labels"] == {"app": name}
    assert deployment["spec"]["replicas"] == 1
    assert [(p["name"], p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == ports
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["name"] == container_name
    assert [(p["name"], p["containerPort"]) for p in container["ports"]] == [(n, target) for n, _, target in ports]


@pytest.mark.parametrize("server", SERVERS)
def test_the_pod_runs_the_servers_image_as_its_user_ready_once_it_answers(server):
    module, image, _container, uid, _ports, probe = SERVERS[server]
    pod = by_kind(server_objects(module.SERVER))["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert (container["image"], container["imagePullPolicy"]) == (image, "IfNotPresent")
    assert container["readinessProbe"] == {**probe, "periodSeconds": READINESS_PERIOD_S}
    security = pod["securityContext"]
    assert (security["runAsNonRoot"], security["runAsUser"], security["runAsGroup"]) == (True, uid, uid)
    assert container["resources"]["requests"] and container["resources"]["limits"]


@pytest.mark.parametrize("server", SERVERS)
def test_the_pod_meets_the_restricted_pod_security_standard(server):
    pod = by_kind(server_objects(SERVERS[server][0].SERVER))["Deployment"]["spec"]["template"]
    assert [str(v) for v in pss.check_pod(pod["spec"], pod["metadata"])] == []


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("version", k8s_schema.SUPPORTED_VERSIONS)
def test_every_object_is_valid_for_the_supported_kubernetes(server, version):
    for obj in server_objects(SERVERS[server][0].SERVER):
        assert k8s_schema.validate(obj, version) == [], f"{obj['kind']}/{obj['metadata']['name']}"


@pytest.mark.parametrize("server", SERVERS)
def test_every_volume_is_mounted_and_every_mount_has_its_volume(server):
    pod = by_kind(server_objects(SERVERS[server][0].SERVER))["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert [m["name"] for m in container.get("volumeMounts", [])] == [v["name"] for v in pod.get("volumes", [])]


def test_only_prometheus_gets_a_service_account_and_its_token():
    for server, (module, *_rest) in SERVERS.items():
        objects = by_kind(server_objects(module.SERVER))
        pod = objects["Deployment"]["spec"]["template"]["spec"]
        if server == "prometheus_server":  # its discovery reads the scraped namespace's endpoints
            assert objects["ServiceAccount"]["metadata"]["name"] == pod["serviceAccountName"] == module.NAME
            assert "automountServiceAccountToken" not in pod
        else:
            assert "ServiceAccount" not in objects and pod["automountServiceAccountToken"] is False


def test_the_database_key_is_readable_by_its_owner_and_group_only():
    pod = by_kind(server_objects(external_db.SERVER))["Deployment"]["spec"]["template"]["spec"]
    (tls,) = [v for v in pod["volumes"] if v["name"] == "tls"]
    assert tls["secret"] == {"secretName": f"{external_db.NAME}-tls", "defaultMode": 0o440}


def test_the_knobs_a_spec_may_turn():
    spec = ServerSpec(name="echo", image="example/echo:1", uid=1234, ports=(Port("http", 80, 8080),),
                      readiness={"tcpSocket": {"port": 8080}}, requests=("10m", "16Mi"), limits=("100m", "32Mi"),
                      container="main", args=("--quiet",), volumes=(Volume("cache", "/cache"),),
                      fs_group=False, read_only_root=False, recreate=False)  # fmt: skip
    deployment = by_kind(server_objects(spec))["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert "strategy" not in deployment["spec"]
    assert "fsGroup" not in pod["securityContext"]
    assert "readOnlyRootFilesystem" not in container["securityContext"]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert (container["name"], container["args"]) == ("main", ["--quiet"])
    assert pod["volumes"] == [{"name": "cache", "emptyDir": {}}]

"""dags/dev_objects.yaml (what `make dev-objects` applies) and its script, without a cluster."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

from tests.lib import tools
from tests.lib.conformance import k8s_names, k8s_schema
from tests.lib.dag_bundle import dev_objects
from tests.lib.paths import REPO

SCRIPT = REPO / "hack" / "create-dev-objects.sh"
NAMESPACE = "development"


@pytest.fixture(scope="module")
def created():
    return dev_objects.load()


@pytest.mark.parametrize("version", [k8s_schema.SUPPORTED_VERSIONS[0], k8s_schema.SUPPORTED_VERSIONS[-1]])
def test_objects_match_the_kubernetes_schema(created, version):
    errors = [f"{o['kind']}/{o['metadata']['name']}: {e}" for o in created.objects for e in k8s_schema.validate(o, version)]
    assert not errors, "\n".join(errors)


def test_object_names_are_valid(created):
    errors = [k8s_names.dns1123_subdomain_error(o["metadata"]["name"]) for o in created.objects]
    assert not [e for e in errors if e]


def test_the_namespace_comes_first_so_apply_can_create_the_rest():
    objects = dev_objects.load().objects
    assert (objects[0]["kind"], objects[0]["metadata"]["name"]) == ("Namespace", NAMESPACE)
    assert {o["metadata"].get("namespace") for o in objects[1:]} == {NAMESPACE}


def test_the_seeds_three_objects_are_there(created):
    assert "test-env" in created.names("Secret", NAMESPACE)
    assert "TEST" in created.keys("Secret", NAMESPACE, "test-env")
    assert "secret" in created.names("ConfigMap", NAMESPACE)
    assert len(created.keys("ConfigMap", NAMESPACE, "secret")) >= 2
    assert "image-credential" in created.names("Secret", NAMESPACE, dev_objects.PULL_SECRET_TYPE)


def test_data_is_marked_placeholder(created):
    """Nothing in the file may look like a real credential."""
    secrets = [o for o in created.objects if o["kind"] == "Secret"]
    assert all("placeholder" in str(o.get("stringData")) for o in secrets)
    assert "PLACEHOLDER DATA ONLY" in dev_objects.FILE.read_text()


def test_script_without_a_reachable_cluster_fails_in_one_line(tmp_path):
    try:
        tools.kubectl()
    except tools.MissingToolError as err:
        pytest.skip(str(err))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n"
        "clusters: [{name: nowhere, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: nobody, user: {}}]\n"
        "contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody}}]\n"
    )
    proc = subprocess.run([str(SCRIPT)], env={"PATH": "/usr/bin:/bin", "KUBECONFIG": str(kubeconfig)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("dev-objects: no Kubernetes API server reachable") and str(kubeconfig) in line


def test_script_refuses_arguments_with_its_usage():
    proc = subprocess.run([str(SCRIPT), "prod"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: hack/create-dev-objects.sh")


def test_the_namespace_enforces_the_restricted_standard():
    namespace = dev_objects.load().objects[0]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_pull_secret_is_a_valid_docker_config(created):
    """The API server parses .dockerconfigjson and refuses the Secret when it is not JSON with `auths`."""
    (secret,) = [o for o in created.objects if o.get("type") == dev_objects.PULL_SECRET_TYPE]
    config = json.loads(secret["stringData"][".dockerconfigjson"])
    for registry, login in config["auths"].items():
        user, password = base64.b64decode(login["auth"]).decode().split(":", 1)
        assert (user, password) == (login["username"], login["password"]), registry


def test_file_passes_yamllint():
    proc = subprocess.run([sys.executable, "-m", "yamllint", "--strict", "--config-file", str(REPO / ".yamllint"),
                           str(dev_objects.FILE)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout

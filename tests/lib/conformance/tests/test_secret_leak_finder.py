"""secret_leaks finds Secret values and sensitive literals outside Secrets, and leaves references alone."""

from __future__ import annotations

import base64

import yaml

from tests.lib.conformance.pod_specs_in_manifests import pod_specs
from tests.lib.conformance.secret_leaks import all_leaks, is_sensitive_key

FERNET = "q0wAqN9pM3kP1bq7Xh7vN6oYw3J0cX0n0ZrM0cU2m2Y="
DB_URL = "postgresql://airflow:s3cr3t-pass@db:5432/airflow"


def secret() -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "airflow-fernet"},
            "data": {"fernet-key": base64.b64encode(FERNET.encode()).decode(), "user": "YWlyZmxvdw=="},
            "stringData": {"connection": DB_URL}}


def deployment(env: list[dict], annotations: dict | None = None) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "scheduler"},
            "spec": {"template": {"metadata": {"annotations": annotations or {}},
                                  "spec": {"containers": [{"name": "scheduler", "image": "i", "env": env}]}}}}


def config_map(data: dict) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "airflow-config"}, "data": data}


def leaks(*objects: dict) -> list[str]:
    objs = list(objects)
    return [str(leak) for leak in all_leaks(objs, pod_specs(objs))]


CLEAN = [
    secret(),
    deployment([{"name": "AIRFLOW__CORE__FERNET_KEY",
                 "valueFrom": {"secretKeyRef": {"name": "airflow-fernet", "key": "fernet-key"}}},
                {"name": "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD", "value": "cat /secrets/conn"},
                {"name": "AIRFLOW__CORE__EXECUTOR", "value": "KubernetesExecutor"}],
               annotations={"checksum/secret": "9f2c" * 16}),
    config_map({"airflow.cfg": "[core]\nexecutor = KubernetesExecutor\nfernet_key_secret = fernet\n"
                               "[api]\nsecret_key_cmd = cat /run/key\n",
                "pod_template_file.yaml": yaml.safe_dump({
                    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                    "spec": {"containers": [{"name": "base", "image": "i"}],
                             "volumes": [{"name": "git", "secret": {"secretName": "git-credentials"}}]}}),
                "user": "airflow"}),
]


def test_clean_objects_have_no_leaks():
    assert leaks(*CLEAN) == []


def test_secret_value_in_config_map_is_found():
    found = leaks(secret(), config_map({"airflow.cfg": f"[database]\nconn_url_override = {DB_URL}\n"}))
    assert found == ["ConfigMap/airflow-config data.airflow.cfg: contains the value of Secret/airflow-fernet[connection]"]


def test_secret_value_in_annotation_is_found():
    found = leaks(secret(), deployment([], annotations={"note": f"key is {FERNET}"}))
    assert found == ["Deployment/scheduler.spec.template.metadata.annotations.note: "
                     "contains the value of Secret/airflow-fernet[fernet-key]"]


def test_sensitive_env_literal_is_found_twice_when_it_is_also_a_secret_value():
    found = leaks(secret(), deployment([{"name": "AIRFLOW__CORE__FERNET_KEY", "value": FERNET}]))
    assert len(found) == 2
    assert any("env[AIRFLOW__CORE__FERNET_KEY]" in line and "valueFrom.secretKeyRef" in line for line in found)
    assert any("contains the value of Secret/airflow-fernet[fernet-key]" in line for line in found)


def test_sensitive_literal_in_cfg_line_is_found_without_any_secret():
    found = leaks(config_map({"airflow.cfg": "[database]\nsql_alchemy_conn = sqlite:////tmp/x.db\n"}))
    assert found == ["ConfigMap/airflow-config data.airflow.cfg line 2: `sql_alchemy_conn` holds a literal value; "
                     "load it from a Secret"]


def test_in_python_a_string_assigned_to_a_sensitive_name_is_found_but_a_value_read_is_not():
    module = 'client_secret = "hunter22-literal"\nsecret = environ.get("CLIENT_SECRET", "")\ntoken = body["access_token"]\n'
    assert leaks(config_map({"module.py": module})) == [
        "ConfigMap/airflow-config data.module.py line 1: `client_secret` holds a literal value; load it from a Secret"]


def test_sensitive_config_map_key_is_found():
    assert leaks(config_map({"api-token": "abc"})) == [
        "ConfigMap/airflow-config data.api-token: a sensitive key holds a literal value; use a Secret"]


def test_env_literal_in_worker_pod_template_is_found():
    template = yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "containers": [{"name": "base", "image": "i", "env": [{"name": "DB_PASSWORD", "value": "hunter22"}]}]}})
    found = leaks(config_map({"pod_template_file.yaml": template}))
    assert found == ["ConfigMap/airflow-config[pod_template_file.yaml] containers[base].env[DB_PASSWORD]: "
                     "a sensitive variable has a literal value; use valueFrom.secretKeyRef"]


def test_key_name_rules():
    assert is_sensitive_key("AIRFLOW__API__SECRET_KEY")
    assert is_sensitive_key("client_secret")
    assert is_sensitive_key("GIT_SYNC_PASSWORD")
    assert not is_sensitive_key("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_SECRET")
    assert not is_sensitive_key("fernet_key_cmd")
    assert not is_sensitive_key("simple_auth_manager_passwords_file")
    assert not is_sensitive_key("GITSYNC_PASSWORD_FILE")
    assert not is_sensitive_key("CLIENT_SECRET_ENV")  # the name of the env var that holds it
    assert not is_sensitive_key("AIRFLOW__CORE__EXECUTOR")

"""logs.remote: task and trigger logs in S3 or an S3-compatible store.

Rendered: the `[logging]` options, the connection only in the pods that use it (the api-server reads
and serves it to workers through the execution API, the triggerer writes), its keys from the Secret
and never a literal. Then Airflow's own code reads the connection the way the pods will see it (the
kubelet's `$(VAR)` expansion applied): the amazon provider's connection wrapper, which S3Hook and the
remote log IO build their client from, finds the keys, the endpoint and the addressing style.
The store itself, the uploads and the reads run in tests/e2e/test_prod_remote_logs.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from tests.lib.dag_bundle.offline_airflow import prepare_airflow_env
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import (
    airflow_cfg,
    containers,
    env,
    pod_annotations,
    secret_refs,
    worker_pod_template,
)
from tests.lib.render.helm_template import render

CONN_ENV = "AIRFLOW_CONN_AIRFLOW_REMOTE_LOGS"
KEY_ENV = {"AIRFLOW_REMOTE_LOGS_ACCESS_KEY_ID": ("airflow-remote-logs", "aws-access-key-id"),
           "AIRFLOW_REMOTE_LOGS_SECRET_ACCESS_KEY": ("airflow-remote-logs", "aws-secret-access-key")}  # fmt: skip
USERS = {"airflow-api-server": "api-server", "airflow-triggerer": "triggerer"}
OTHERS = {"airflow-scheduler": "scheduler", "airflow-dag-processor": "dag-processor"}


def container(scenario, deployment: str) -> dict:
    obj = render(scenario).get("Deployment", deployment)
    return containers(obj)[(USERS | OTHERS)[deployment]]


def as_the_pod_sees_it(container_: dict, secrets: dict[str, str]) -> str:
    """The connection env value after the kubelet's expansion of `$(VAR)`, `secrets` standing for
    what the Secret holds."""
    values = {name: secrets[key] for name, (_, key) in secret_refs(container_).items() if key in secrets}
    value = env(container_)[CONN_ENV]["value"]
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: values.get(m.group(1), m.group(0)), value)


def airflow_connection(value: str, conn_id: str = "airflow_remote_logs"):
    """The connection as Airflow parses it from its env var, wrapped as the amazon provider's hooks do."""
    prepare_airflow_env()
    from airflow.models.connection import Connection
    from airflow.providers.amazon.aws.utils.connection_wrapper import AwsConnectionWrapper

    return AwsConnectionWrapper(Connection.from_json(value, conn_id=conn_id))


class TestLoggingConfig:
    def test_off_by_default(self):
        cfg = airflow_cfg(render(scenarios.DEFAULT))
        assert not cfg.has_option("logging", "remote_logging")
        for deployment in USERS | OTHERS:
            assert CONN_ENV not in env(container(scenarios.DEFAULT, deployment))

    def test_remote_logging_writes_to_the_folder_through_the_connection(self):
        logging = airflow_cfg(render(scenarios.REMOTE_LOGS_S3_COMPATIBLE))["logging"]
        assert logging["remote_logging"] == "True"
        assert logging["remote_base_log_folder"] == "s3://airflow-logs/team-a"  # the trailing slash dropped
        assert logging["remote_log_conn_id"] == "airflow_remote_logs"
        # Uploaded logs leave the triggerer's emptyDir (worker pods go anyway).
        assert logging["delete_local_logs"] == "True"

    def test_prod_values_turn_it_on(self):
        logging = airflow_cfg(render(scenarios.PROD))["logging"]
        assert logging["remote_logging"] == "True" and logging["remote_base_log_folder"].startswith("s3://")


class TestConnection:
    @pytest.mark.parametrize("deployment", sorted(USERS))
    def test_the_pods_that_read_or_write_logs_get_it_with_the_keys_from_the_secret(self, deployment):
        server = container(scenarios.REMOTE_LOGS_S3_COMPATIBLE, deployment)
        assert {k: v for k, v in secret_refs(server).items() if k in KEY_ENV} == KEY_ENV
        names = list(env(server))
        # Kubernetes expands $(VAR) only from variables defined before it.
        assert names.index(CONN_ENV) > max(names.index(k) for k in KEY_ENV)
        assert "checksum/remote-logs" in pod_annotations(render(scenarios.REMOTE_LOGS_S3_COMPATIBLE).get("Deployment", deployment))

    @pytest.mark.parametrize("deployment", sorted(OTHERS))
    def test_other_components_get_neither_connection_nor_keys(self, deployment):
        server = container(scenarios.REMOTE_LOGS_S3_COMPATIBLE, deployment)
        assert CONN_ENV not in env(server) and not set(KEY_ENV) & set(env(server))
        # Their keys changing is no reason to roll them.
        obj = render(scenarios.REMOTE_LOGS_S3_COMPATIBLE).get("Deployment", deployment)
        assert "checksum/remote-logs" not in pod_annotations(obj)

    def test_worker_pods_carry_no_key_they_fetch_the_connection_through_the_execution_api(self):
        pod = worker_pod_template(render(scenarios.REMOTE_LOGS_S3_COMPATIBLE))
        text = json.dumps(pod)
        assert "airflow-remote-logs" not in text and CONN_ENV not in text

    def test_no_key_is_a_literal(self):
        value = env(container(scenarios.REMOTE_LOGS_S3_COMPATIBLE, "airflow-api-server"))[CONN_ENV]["value"]
        assert json.loads(value)["login"] == "$(AIRFLOW_REMOTE_LOGS_ACCESS_KEY_ID)"
        assert json.loads(value)["password"] == "$(AIRFLOW_REMOTE_LOGS_SECRET_ACCESS_KEY)"

    def test_airflow_reads_the_store_its_keys_and_path_style_from_it(self):
        # An AWS-style secret key: the characters a real one has, '/' and '+' among them.
        secrets = {"aws-access-key-id": "AKIAEXAMPLE123456789", "aws-secret-access-key": "wJalr/XUtnFEMI+K7MDENG/bPxRfiCYEXAMPLEKEY"}
        server = container(scenarios.REMOTE_LOGS_S3_COMPATIBLE, "airflow-triggerer")
        wrapper = airflow_connection(as_the_pod_sees_it(server, secrets))
        assert wrapper.conn_type == "aws"
        assert wrapper.aws_access_key_id == secrets["aws-access-key-id"]
        assert wrapper.aws_secret_access_key == secrets["aws-secret-access-key"]
        assert wrapper.endpoint_url == "http://s3.storage.svc:7070"
        assert wrapper.botocore_config.s3 == {"addressing_style": "path"}

    def test_without_a_secret_the_pods_own_aws_identity_is_used(self):
        server = container(scenarios.REMOTE_LOGS_POD_IDENTITY, "airflow-api-server")
        assert not set(KEY_ENV) & set(env(server))
        value = env(server)["AIRFLOW_CONN_LOGS_S3"]["value"]
        wrapper = airflow_connection(value, "logs_s3")
        # No key in the connection: boto3's default chain (web identity token, pod identity agent).
        assert wrapper.aws_access_key_id is None and wrapper.aws_secret_access_key is None
        assert wrapper.region_name == "eu-west-1" and wrapper.endpoint_url is None
        assert "checksum/remote-logs" not in pod_annotations(render(scenarios.REMOTE_LOGS_POD_IDENTITY).get("Deployment", "airflow-api-server"))
        assert airflow_cfg(render(scenarios.REMOTE_LOGS_POD_IDENTITY))["logging"]["remote_log_conn_id"] == "logs_s3"


class TestApiServerReader:
    """The api-server reads with the chart's files/remote_log_reader.py; run here by Airflow's own
    resolution of `[logging]` (a subprocess with the api-server's settings and the mounted module)."""

    def test_only_the_api_server_reads_with_it(self):
        rendered = render(scenarios.REMOTE_LOGS_S3_COMPATIBLE)
        module = "airflow_on_k8s_remote_log_reader"
        api = container(scenarios.REMOTE_LOGS_S3_COMPATIBLE, "airflow-api-server")
        assert env(api)["AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS"]["value"] == f"{module}.LOGGING_CONFIG"
        assert {m["mountPath"]: m.get("subPath") for m in api["volumeMounts"]}[f"/opt/airflow/config/{module}.py"] \
            == "remote_log_reader.py"  # fmt: skip
        assert "remote_log_reader.py" in rendered.get("ConfigMap", "airflow-config")["data"]
        for deployment in ("airflow-triggerer", *OTHERS):
            assert "AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS" not in env(container(scenarios.REMOTE_LOGS_S3_COMPATIBLE, deployment))

    def test_a_store_that_does_not_answer_is_said_in_the_log_with_where_the_log_was_meant_to_be(self, tmp_path, closed_port):
        rendered = render(scenarios.REMOTE_LOGS_S3_COMPATIBLE)
        api = container(scenarios.REMOTE_LOGS_S3_COMPATIBLE, "airflow-api-server")
        home = tmp_path / "home"
        (home / "config").mkdir(parents=True)
        (home / "config" / "airflow_on_k8s_remote_log_reader.py").write_text(
            rendered.get("ConfigMap", "airflow-config")["data"]["remote_log_reader.py"])
        connection = json.loads(as_the_pod_sees_it(api, {"aws-access-key-id": "AK", "aws-secret-access-key": "SK"}))
        connection["extra"]["endpoint_url"] = f"http://127.0.0.1:{closed_port}"  # nothing listens there
        logging = airflow_cfg(rendered)["logging"]
        environ = {"PATH": os.environ["PATH"], "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                   "AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS": env(api)["AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS"]["value"],
                   **{f"AIRFLOW__LOGGING__{k.upper()}": v for k, v in logging.items()},
                   CONN_ENV: json.dumps(connection)}  # fmt: skip
        script = textwrap.dedent("""
            import json
            from airflow.logging_config import get_remote_task_log
            io = get_remote_task_log()
            print(json.dumps([type(io).__name__, *io.read("dag_id=d/run_id=r/task_id=t/attempt=1.log", None)]))
        """)
        done = subprocess.run([sys.executable, "-c", script], env=environ, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        name, sources, logs = json.loads(done.stdout.strip().splitlines()[-1])
        assert name == "StoreReportingS3RemoteLogIO" and logs is None
        (message,) = sources
        assert message.startswith("Could not read this task's log from "
                                  "s3://airflow-logs/team-a/dag_id=d/run_id=r/task_id=t/attempt=1.log"), message  # fmt: skip
        assert "the log store did not answer" in message, message

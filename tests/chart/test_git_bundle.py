"""dags.gitBundle: Airflow's own GitDagBundle clones the DAGs, in the dag-processor and in each worker pod."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import (
    airflow_cfg,
    containers,
    env,
    init_containers,
    mounts,
    volumes,
    worker_pod_template,
)
from tests.lib.render.helm_template import render

BUNDLE_ENV = {"GIT_TERMINAL_PROMPT", "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0", "GIT_SSL_CAINFO"}


def bundle_config(scenario) -> list[dict]:
    return json.loads(airflow_cfg(render(scenario))["dag_processor"]["dag_bundle_config_list"])


def worker_base(scenario) -> dict:
    return {c["name"]: c for c in worker_pod_template(render(scenario))["spec"]["containers"]}["base"]


def kubelet_expanded(value: str) -> str:
    """An env value as the container sees it: the kubelet turns `$$` into `$` (no variable is referenced)."""
    return value.replace("$$", "$")


class TestGitBundleConfig:
    def test_the_only_bundle_is_a_git_bundle_following_the_branch(self):
        assert bundle_config(scenarios.GITBUNDLE_HTTPS) == [{
            "name": "dags",
            "classpath": "airflow.providers.git.bundles.git.GitDagBundle",
            "kwargs": {"repo_url": "https://git.internal.example/org/dags.git", "tracking_ref": "main",
                       "subdir": "dags", "refresh_interval": 30, "git_conn_id": "dags_git"},
        }]
        assert bundle_config(scenarios.GITBUNDLE_SSH_KNOWN_HOSTS)[0]["name"] == "team-dags"
        assert "subdir" not in bundle_config(scenarios.GITBUNDLE_SSH_KNOWN_HOSTS)[0]["kwargs"]

    def test_other_dag_sources_keep_airflows_default_bundle(self):
        for scenario in (scenarios.DEFAULT, scenarios.GITSYNC_HTTPS, scenarios.PROD):
            assert "dag_bundle_config_list" not in airflow_cfg(render(scenario))["dag_processor"], scenario.name

    def test_airflow_builds_the_git_bundle_from_the_rendered_config(self, tmp_path):
        # Airflow's own DagBundlesManager reads the rendered airflow.cfg and the connection env var in a
        # fresh interpreter: the classpath imports, GitDagBundle accepts every kwarg the chart passes
        # and finds its connection (else every task log would say it is missing).
        rendered = render(scenarios.GITBUNDLE_HTTPS)
        cfg = tmp_path / "airflow.cfg"
        cfg.write_text(rendered.get("ConfigMap", "airflow-config")["data"]["airflow.cfg"])
        connection = env(worker_base(scenarios.GITBUNDLE_HTTPS))["AIRFLOW_CONN_DAGS_GIT"]["value"]
        probe = textwrap.dedent("""
            import json
            from airflow.dag_processing.bundles.manager import DagBundlesManager
            bundle = DagBundlesManager().get_bundle("dags")
            print(json.dumps({"type": type(bundle).__name__, "repo_url": bundle.repo_url, "tracking_ref": bundle.tracking_ref,
                              "subdir": bundle.subdir, "refresh_interval": bundle.refresh_interval,
                              "supports_versioning": bundle.supports_versioning, "hook": bundle.hook is not None}))
        """)
        environ = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        environ.update(AIRFLOW_HOME=str(tmp_path), AIRFLOW_CONFIG=str(cfg), AIRFLOW_CONN_DAGS_GIT=connection)
        result = subprocess.run([sys.executable, "-c", probe], env=environ, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        assert json.loads(result.stdout.strip().splitlines()[-1]) == {
            "type": "GitDagBundle", "repo_url": "https://git.internal.example/org/dags.git", "tracking_ref": "main",
            "subdir": "dags", "refresh_interval": 30, "supports_versioning": True, "hook": True}


class TestGitBundleContainers:
    def test_the_dag_processor_and_workers_clone_with_the_git_settings(self):
        rendered = render(scenarios.GITBUNDLE_HTTPS)
        processor = containers(rendered.get("Deployment", "airflow-dag-processor"))["dag-processor"]
        for container in (processor, worker_base(scenarios.GITBUNDLE_HTTPS)):
            variables = env(container)
            assert BUNDLE_ENV <= set(variables)
            assert variables["GIT_SSL_CAINFO"]["value"] == "/opt/airflow/git/ca/ca.crt"
            assert mounts(container)["/opt/airflow/git/credentials"] == {
                "name": "git-credentials", "mountPath": "/opt/airflow/git/credentials", "readOnly": True}
            assert mounts(container)["/opt/airflow/git/ca"]["name"] == "git-ca"
        assert volumes(rendered.get("Deployment", "airflow-dag-processor"))["git-credentials"]["secret"]["secretName"] == "git-credentials"

    def test_every_component_knows_the_bundles_public_connection(self):
        rendered = render(scenarios.GITBUNDLE_HTTPS)
        expected = {"conn_type": "git", "host": "https://git.internal.example/org/dags.git"}
        for name in ("airflow-dag-processor", "airflow-scheduler", "airflow-triggerer", "airflow-api-server"):
            container = containers(rendered.get("Deployment", name))[name.removeprefix("airflow-")]
            assert json.loads(env(container)["AIRFLOW_CONN_DAGS_GIT"]["value"]) == expected, name
        assert json.loads(env(worker_base(scenarios.GITBUNDLE_HTTPS))["AIRFLOW_CONN_DAGS_GIT"]["value"]) == expected
        ssh = json.loads(env(worker_base(scenarios.GITBUNDLE_SSH_KNOWN_HOSTS))["AIRFLOW_CONN_DAGS_GIT"]["value"])
        assert ssh["extra"] == {"known_hosts_file": "/opt/airflow/git/known-hosts/known_hosts",
                                "strict_host_key_checking": "yes"}  # fmt: skip

    def test_no_token_in_an_env_var(self):
        # The credential helper reads the mounted Secret: nothing from it is an env var.
        for container in (containers(render(scenarios.GITBUNDLE_HTTPS).get("Deployment", "airflow-dag-processor"))["dag-processor"],
                          worker_base(scenarios.GITBUNDLE_HTTPS)):
            assert not [e for e in container["env"] if e["name"].startswith("GIT") and "valueFrom" in e]

    def test_components_that_never_clone_get_nothing(self):
        rendered = render(scenarios.GITBUNDLE_HTTPS)
        for name in ("airflow-scheduler", "airflow-triggerer", "airflow-api-server"):
            deployment = rendered.get("Deployment", name)
            for container in containers(deployment).values():
                assert not BUNDLE_ENV & set(env(container)), name
            assert not {"git-credentials", "git-ca", "dags"} & set(volumes(deployment)), name

    def test_no_git_sync_anywhere(self):
        rendered = render(scenarios.GITBUNDLE_HTTPS)
        for name in ("airflow-dag-processor", "airflow-triggerer"):
            deployment = rendered.get("Deployment", name)
            assert set(containers(deployment)) == {name.removeprefix("airflow-")}
            assert "git-sync-init" not in init_containers(deployment)
        assert "initContainers" not in worker_pod_template(rendered)["spec"]

    def test_ssh_checks_the_host_key_from_the_config_map(self):
        rendered = render(scenarios.GITBUNDLE_SSH_KNOWN_HOSTS)
        command = env(worker_base(scenarios.GITBUNDLE_SSH_KNOWN_HOSTS))["GIT_SSH_COMMAND"]["value"]
        assert command == ("ssh -i /opt/airflow/git/ssh/ssh -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes"
                           " -o UserKnownHostsFile=/opt/airflow/git/known-hosts/known_hosts")
        known_hosts = rendered.get("ConfigMap", "airflow-git-known-hosts")
        assert known_hosts["data"]["known_hosts"].startswith("git.example.com ssh-ed25519 ")
        processor = rendered.get("Deployment", "airflow-dag-processor")
        assert volumes(processor)["git-ssh-key"]["secret"]["items"] == [{"key": "ssh-privatekey", "path": "ssh"}]
        assert mounts(containers(processor)["dag-processor"])["/opt/airflow/git/known-hosts"]["name"] == "git-known-hosts"

    def test_git_gets_the_secrets_credentials_from_the_helper(self, tmp_path):
        # Real git asks the rendered helper, as in the container (paths moved into tmp_path).
        (tmp_path / "username").write_text("dags-reader\n")
        (tmp_path / "password").write_text("tok$en'with\"quotes\n")
        helper = kubelet_expanded(env(worker_base(scenarios.GITBUNDLE_HTTPS))["GIT_CONFIG_VALUE_0"]["value"])
        helper = helper.replace("/opt/airflow/git/credentials", str(tmp_path))
        result = subprocess.run(
            ["git", "-c", f"credential.helper={helper}", "credential", "fill"],
            input="protocol=https\nhost=git.internal.example\n\n", capture_output=True, text=True, timeout=30,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"})
        assert result.returncode == 0, result.stderr
        assert "username=dags-reader\n" in result.stdout
        assert "password=tok$en'with\"quotes\n" in result.stdout

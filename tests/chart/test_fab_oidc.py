"""Sign-in through an OpenID Connect provider (auth.manager: fab with auth.fab.oidc): what the chart
renders, and the rendered module run by a real Airflow api-server app against a local issuer
(tests/lib/render/fab_sign_in.py). The e2e test signs people in through Keycloak."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.lib.conformance.label_selectors import selects
from tests.lib.paths import REPO
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import (
    airflow_cfg,
    containers,
    env,
    init_containers,
    mounts,
    pod_annotations,
    secret_refs,
    volumes,
)
from tests.lib.render.helm_template import render

MODULE = "airflow_on_k8s_fab_oidc"
CONTROL_PLANE = ("airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")


def api_server() -> dict[str, Any]:
    return containers(render(scenarios.FAB_OIDC).get("Deployment", "airflow-api-server"))["api-server"]


class TestRendered:
    def test_airflow_runs_the_fab_auth_manager_of_the_chart_module(self):
        assert airflow_cfg(render(scenarios.FAB_OIDC))["core"]["auth_manager"] == f"{MODULE}.OidcFabAuthManager"

    def test_the_client_secret_reaches_the_api_server_alone_from_the_users_secret(self):
        assert secret_refs(api_server())["AIRFLOW_ON_K8S_OIDC_CLIENT_SECRET"] == ("airflow-oidc", "client-secret")
        rendered = render(scenarios.FAB_OIDC)
        for name in CONTROL_PLANE:
            for container in containers(rendered.get("Deployment", name)).values():
                assert not {k for k in env(container) if k.startswith("AIRFLOW_ON_K8S_OIDC")}, name
        job = rendered.get("Job", "airflow-run-migrations")
        assert "AIRFLOW_ON_K8S_OIDC_CLIENT_SECRET" not in env(containers(job)["run-migrations"])

    def test_the_settings_are_the_values(self):
        settings = json.loads(env(api_server())["AIRFLOW_ON_K8S_OIDC"]["value"])
        assert settings == {"issuer": "https://idp.example.com/realms/airflow", "providerName": "sso", "clientId": "airflow",
                            "scopes": ["openid", "email", "profile"], "usernameClaim": "preferred_username",
                            "groupsClaim": "groups", "roleMapping": {"airflow-admins": ["Admin"], "airflow-viewers": ["Viewer"]},
                            "defaultRole": "", "tokenAudiences": [], "caBundle": "/opt/airflow/oidc-ca/ca.crt"}  # fmt: skip

    def test_the_api_server_mounts_the_module_its_webserver_config_and_the_issuers_ca(self):
        rendered = render(scenarios.FAB_OIDC)
        api = mounts(api_server())
        assert api[f"/opt/airflow/config/{MODULE}.py"]["subPath"] == "fab_oidc.py"
        assert api["/opt/airflow/webserver_config.py"]["subPath"] == "webserver_config.py"
        assert api["/opt/airflow/oidc-ca"]["name"] == "oidc-ca"
        deployment = rendered.get("Deployment", "airflow-api-server")
        assert volumes(deployment)["oidc-ca"]["configMap"] == {"name": "idp-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}
        data = rendered.get("ConfigMap", "airflow-config")["data"]
        assert data["fab_oidc.py"] == (REPO / "charts/airflow/files/fab_oidc.py").read_text().strip()
        assert "from airflow_on_k8s_fab_oidc import webserver_config" in data["webserver_config.py"]

    def test_the_migrations_job_imports_the_auth_manager_to_migrate_fabs_tables(self):
        job = render(scenarios.FAB_OIDC).get("Job", "airflow-run-migrations")
        assert f"/opt/airflow/config/{MODULE}.py" in mounts(containers(job)["run-migrations"])

    def test_the_components_wait_for_fabs_tables_without_importing_the_module(self):
        rendered = render(scenarios.FAB_OIDC)
        for name in (*CONTROL_PLANE, "airflow-api-server"):
            wait = init_containers(rendered.get("Deployment", name))["wait-for-migrations"]
            assert wait["args"][wait["args"].index("--auth-manager") + 1] == "fab", name
        for name in CONTROL_PLANE:
            for container in containers(rendered.get("Deployment", name)).values():
                assert f"/opt/airflow/config/{MODULE}.py" not in mounts(container), name

    def test_a_new_client_secret_or_setting_rolls_the_api_server(self):
        assert "checksum/fab-oidc" in pod_annotations(render(scenarios.FAB_OIDC).get("Deployment", "airflow-api-server"))

    def test_the_api_server_alone_may_reach_the_identity_provider(self):
        rendered = render(scenarios.FAB_OIDC)
        policy = rendered.get("NetworkPolicy", "airflow-api-server-egress")
        assert policy["spec"]["egress"] == [{"ports": [{"port": 8443, "protocol": "TCP"}],
                                             "to": [{"ipBlock": {"cidr": "192.0.2.10/32"}}]}]  # fmt: skip
        pods = {name: rendered.get("Deployment", name)["spec"]["template"] for name in (*CONTROL_PLANE, "airflow-api-server")}
        selected = {name for name, pod in pods.items() if selects(policy["spec"]["podSelector"], pod["metadata"]["labels"])}
        assert selected == {"airflow-api-server"}
        shared = rendered.get("NetworkPolicy", "airflow-egress")["spec"]["egress"]
        assert "192.0.2.10/32" not in json.dumps(shared) and 8443 not in [p["port"] for r in shared for p in r.get("ports", [])]

    def test_simple_auth_renders_none_of_it(self):
        rendered = render(scenarios.DEFAULT)
        assert "fab_oidc.py" not in rendered.get("ConfigMap", "airflow-config")["data"]
        api = containers(rendered.get("Deployment", "airflow-api-server"))["api-server"]
        assert "AIRFLOW_ON_K8S_OIDC" not in env(api)


@pytest.fixture(scope="module")
def fab_oidc():
    """The chart's module, imported from its file as the api-server imports it from $AIRFLOW_HOME/config."""
    spec = importlib.util.spec_from_file_location(MODULE, REPO / "charts/airflow/files/fab_oidc.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class TestClaims:
    """How the module reads a provider's claims: what differs between providers is in the values."""

    def settings(self, fab_oidc, **values):
        data = {"issuer": "https://idp.example.com/", "clientId": "airflow", "roleMapping": {"admins": ["Admin"]}, **values}
        return fab_oidc.OidcSettings.from_env({fab_oidc.SETTINGS_ENV: json.dumps(data)})

    def test_a_nested_claim_is_reached_by_a_dotted_path(self, fab_oidc):
        settings = self.settings(fab_oidc, groupsClaim="realm_access.roles", usernameClaim="upn")
        info = fab_oidc.user_info({"upn": "ann@example.com", "realm_access": {"roles": ["admins", "x"]}}, settings)
        assert info["username"] == "ann@example.com" and info["role_keys"] == ["admins", "x"]
        assert fab_oidc.mapped_roles(info, settings) == {"Admin"}

    def test_a_single_group_as_a_string_counts_and_no_groups_claim_is_no_group(self, fab_oidc):
        settings = self.settings(fab_oidc)
        assert fab_oidc.user_info({"groups": "admins"}, settings)["role_keys"] == ["admins"]
        assert fab_oidc.user_info({}, settings)["role_keys"] == []

    def test_a_user_of_no_mapped_group_gets_the_default_role_or_nothing(self, fab_oidc):
        info = {"role_keys": ["others"]}
        assert fab_oidc.mapped_roles(info, self.settings(fab_oidc)) == set()
        assert fab_oidc.mapped_roles(info, self.settings(fab_oidc, defaultRole="Viewer")) == {"Viewer"}

    def test_the_issuer_is_read_without_its_trailing_slash_and_the_audience_defaults_to_the_client(self, fab_oidc):
        settings = self.settings(fab_oidc)
        assert settings.discovery_url == "https://idp.example.com/.well-known/openid-configuration"
        assert settings.token_audiences == ("airflow",)

    @pytest.mark.parametrize(("environ", "says"), [
        ({}, "AIRFLOW_ON_K8S_OIDC is not set"),
        ({"AIRFLOW_ON_K8S_OIDC": "{"}, "AIRFLOW_ON_K8S_OIDC is not JSON"),
        ({"AIRFLOW_ON_K8S_OIDC": '{"clientId": "a"}'}, "auth.fab.oidc.issuer is empty"),
        ({"AIRFLOW_ON_K8S_OIDC": '{"issuer": "https://i", "clientId": "a", "roleMapping": {"g": ["Boss"]}}'},
         "roles FAB does not have: ['Boss']"),
    ])  # fmt: skip
    def test_wrong_settings_say_what_is_wrong(self, fab_oidc, environ, says):
        with pytest.raises(fab_oidc.OidcSettingsError, match=re.escape(says)):
            fab_oidc.OidcSettings.from_env(environ)


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory) -> dict[str, Any]:
    """What a real Airflow api-server app with the rendered module answered (fab_sign_in.py)."""
    rendered = render(scenarios.FAB_OIDC)
    data = rendered.get("ConfigMap", "airflow-config")["data"]
    work = tmp_path_factory.mktemp("fab-oidc")
    home = work / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / f"{MODULE}.py").write_text(data["fab_oidc.py"])
    (home / "webserver_config.py").write_text(data["webserver_config.py"])
    environ = {
        "PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__AUTH_MANAGER": airflow_cfg(rendered)["core"]["auth_manager"],
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(work / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{work / 'airflow.db'}",
        "AIRFLOW__API__SECRET_KEY": "offline-test", "AIRFLOW__API_AUTH__JWT_SECRET": "offline-test-jwt",
        "AIRFLOW_ON_K8S_OIDC": env(api_server())["AIRFLOW_ON_K8S_OIDC"]["value"],
        "AIRFLOW_ON_K8S_OIDC_CLIENT_SECRET": "client-secret-of-the-test",
    }  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "tests.lib.render.fab_sign_in", str(work)], cwd=REPO, env=environ,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-5000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


class TestInAnApiServer:
    def test_the_sign_in_page_offers_the_provider(self, signed_in):
        assert signed_in["login_page"] == [200, True]

    def test_sign_in_goes_to_the_issuers_authorization_endpoint_with_the_callback(self, signed_in):
        status, location = signed_in["sign_in_redirect"]
        assert status == 302, signed_in
        url = urlsplit(location)
        assert location.startswith(f"{signed_in['issuer']}/protocol/openid-connect/auth?"), location
        query = parse_qs(url.query)
        assert query["client_id"] == ["airflow"] and query["response_type"] == ["code"]
        assert query["redirect_uri"][0].endswith("/auth/oauth-authorized/sso")
        assert set(query["scope"][0].split()) == {"openid", "email", "profile"}

    def test_an_access_token_of_the_issuer_is_exchanged_for_an_airflow_token(self, signed_in):
        assert signed_in["exchange"]["admin"] == 201 and signed_in["exchange"]["viewer"] == 201

    @pytest.mark.parametrize("case", ["no_group", "other_audience", "expired"])
    def test_a_token_of_no_mapped_group_another_audience_or_expired_is_refused(self, signed_in, case):
        assert signed_in["exchange"][case] == 401

    def test_a_password_is_refused_saying_what_to_send(self, signed_in):
        status, detail = signed_in["password"]
        assert status == 400 and '{"access_token":' in detail

    def test_roles_come_from_the_groups(self, signed_in):
        assert signed_in["admin"] == {"list_dags": 200, "create_variable": 201}
        assert signed_in["viewer"] == {"list_dags": 200, "create_variable": 403}

    def test_the_issuer_down_keeps_known_keys_and_says_sign_in_is_unavailable(self, signed_in):
        assert signed_in["down_cached_key"] == 201
        status, detail = signed_in["down_not_fetched"]
        assert status == 503 and "identity provider does not answer" in detail
        assert signed_in["down_sign_in"] == [200, True]

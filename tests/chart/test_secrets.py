"""Secrets: generated once (kept on upgrade through lookup), or named by the user; never in a ConfigMap."""

from __future__ import annotations

import hashlib

import pytest

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import SERVER_DEPLOYMENTS, containers, pod_annotations, secret_data, secret_refs
from tests.lib.render.helm_template import render

SERVER_SECRET_ENV = {
    "AIRFLOW__CORE__FERNET_KEY": ("airflow-fernet-key", "fernet-key"),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": ("airflow-metadata", "connection"),
    "AIRFLOW__API_AUTH__JWT_SECRET": ("airflow-jwt-secret", "jwt-secret"),
    "AIRFLOW__API__SECRET_KEY": ("airflow-api-secret-key", "api-secret-key"),
}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class TestGeneratedSecrets:
    @pytest.mark.parametrize("name", SERVER_DEPLOYMENTS)
    def test_every_server_component_reads_all_four_from_secrets(self, name):
        deployment = render(scenarios.DEFAULT).get("Deployment", name)
        main = containers(deployment)[name.removeprefix("airflow-")]
        assert secret_refs(main) == SERVER_SECRET_ENV

    def test_generated_values_are_long_random_strings(self):
        rendered = render(scenarios.DEFAULT)
        assert len(secret_data(rendered, "airflow-jwt-secret")["jwt-secret"]) >= 32
        assert len(secret_data(rendered, "airflow-api-secret-key")["api-secret-key"]) >= 32
        assert secret_data(rendered, "airflow-jwt-secret")["jwt-secret"] != secret_data(
            rendered, "airflow-api-secret-key")["api-secret-key"]

    def test_fernet_key_is_one_the_cryptography_library_accepts(self):
        from cryptography.fernet import Fernet

        key = secret_data(render(scenarios.DEFAULT), "airflow-fernet-key")["fernet-key"]
        assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"ok")) == b"ok"

    def test_templates_keep_live_values_through_lookup(self):
        # helm template has no cluster, so the keep-on-upgrade path is checked in the source:
        # every generated value goes through the one helper that reads the live Secret first.
        from tests.lib.paths import CHART

        helpers = (CHART / "templates" / "_secrets.tpl").read_text()
        assert 'lookup "v1" "Secret" $root.Release.Namespace $secretName' in helpers
        for template in ("fernet-key-secret.yaml", "jwt-secret.yaml", "api-secret-key-secret.yaml", "postgresql-secret.yaml"):
            assert 'include "airflow.secretValue"' in (CHART / "templates" / "secrets" / template).read_text(), template


    def test_fernet_key_and_database_password_outlive_uninstall(self):
        # Data encrypted with the key, and the data volume initialised with the password, stay too.
        rendered = render(scenarios.DEFAULT)
        for name in ("airflow-fernet-key", "airflow-postgresql"):
            assert rendered.get("Secret", name)["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
        for name in ("airflow-jwt-secret", "airflow-api-secret-key", "airflow-metadata"):
            assert "annotations" not in rendered.get("Secret", name)["metadata"], name


class TestChecksums:
    def test_jwt_secret_change_rolls_api_server_and_scheduler_together(self):
        rendered = render(scenarios.DEFAULT)
        expected = _sha(secret_data(rendered, "airflow-jwt-secret")["jwt-secret"])
        for name in SERVER_DEPLOYMENTS:
            assert pod_annotations(rendered.get("Deployment", name))["checksum/jwt-secret"] == expected, name

    def test_config_change_rolls_every_user_of_the_config(self):
        rendered = render(scenarios.DEFAULT)
        expected = _sha(rendered.get("ConfigMap", "airflow-config")["data"]["airflow.cfg"])
        for name in SERVER_DEPLOYMENTS:
            assert pod_annotations(rendered.get("Deployment", name))["checksum/config"] == expected, name
        assert pod_annotations(rendered.get("Job", "airflow-run-migrations"))["checksum/config"] == expected

    def test_checksums_of_other_secrets_follow_their_values(self):
        rendered = render(scenarios.DEFAULT)
        annotations = pod_annotations(rendered.get("Deployment", "airflow-scheduler"))
        assert annotations["checksum/fernet-key"] == _sha(secret_data(rendered, "airflow-fernet-key")["fernet-key"])
        assert annotations["checksum/api-secret-key"] == _sha(secret_data(rendered, "airflow-api-secret-key")["api-secret-key"])
        assert annotations["checksum/metadata"] == _sha(secret_data(rendered, "airflow-metadata")["connection"])


class TestExistingSecrets:
    def test_named_secrets_replace_the_generated_ones(self):
        rendered = render(scenarios.EXISTING_SECRETS)
        for generated in ("airflow-fernet-key", "airflow-jwt-secret", "airflow-api-secret-key", "airflow-simple-auth-passwords"):
            assert rendered.maybe("Secret", generated) is None, generated
        refs = secret_refs(containers(rendered.get("Deployment", "airflow-api-server"))["api-server"])
        assert refs["AIRFLOW__CORE__FERNET_KEY"] == ("my-fernet", "fernet-key")
        assert refs["AIRFLOW__API_AUTH__JWT_SECRET"] == ("my-jwt", "jwt-secret")
        assert refs["AIRFLOW__API__SECRET_KEY"] == ("my-api-key", "api-secret-key")
        volume = {v["name"]: v for v in rendered.get("Deployment", "airflow-api-server")["spec"]["template"]["spec"]["volumes"]}
        assert volume["simple-auth-secret"]["secret"]["secretName"] == "my-ui-passwords"

    def test_prod_generates_no_secret_at_all(self):
        assert render(scenarios.PROD).all("Secret") == []


@pytest.mark.parametrize("scenario", scenarios.ALL + scenarios.DETAIL_SCENARIOS, ids=lambda s: s.name)
def test_no_secret_value_appears_in_a_config_map(scenario):
    rendered = render(scenario)
    values = [v for s in rendered.all("Secret") for v in secret_data(rendered, s["metadata"]["name"]).values()]
    secrets = {piece for v in values for piece in [v, *_json_values(v)] if len(piece) >= 8}
    for config_map in rendered.all("ConfigMap"):
        text = "\n".join(config_map.get("data", {}).values())
        for secret in secrets:
            assert secret not in text, f"a Secret value is in ConfigMap {config_map['metadata']['name']}"


def _json_values(text: str) -> list[str]:
    import json

    try:
        parsed = json.loads(text)
    except ValueError:
        return []
    return [str(v) for v in parsed.values()] if isinstance(parsed, dict) else []


def test_the_embedded_database_url_has_its_driver_in_the_airflow_images_locked_packages():
    # The project venv holds the same locked runtime set as the Airflow image (docker/airflow
    # installs uv.lock's export): the URL's SQLAlchemy dialect must find its DBAPI there, or the
    # migration Job dies on its first import (it did: psycopg was missing).
    from sqlalchemy.engine import make_url

    url = make_url(secret_data(render(scenarios.DEV), "airflow-metadata")["connection"])
    assert url.get_backend_name() == "postgresql"
    url.get_dialect().import_dbapi()

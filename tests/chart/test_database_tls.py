"""TLS to an external metadata database (data.tls): one setting for both of Airflow's drivers, and a
URL or a certificate the database would refuse said in one line, ending the install at once.

Rendered: every container that gets the database URL also gets libpq's PGSSLMODE and PGSSLROOTCERT
(psycopg and asyncpg both read them) and the CA's ConfigMap where PGSSLROOTCERT points; worker pods
get neither (they never reach the database). Run: the chart's scripts with the flags each pod gets
(files/scripts/metadata_database.py), and asyncpg under Airflow's own async URL, against a local
endpoint that answers PostgreSQL's SSL request and completes a real TLS handshake with a certificate
from a private CA (it speaks no more PostgreSQL than that).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.lib.conformance.pod_specs_in_manifests import pod_specs
from tests.lib.dag_bundle.offline_airflow import prepare_airflow_env
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import SERVER_DEPLOYMENTS, containers, env, pod_spec
from tests.lib.render.helm_template import Scenario, render
from tests.lib.render.startup_scripts import JOB, migrate_command, wait_command
from tests.lib.test_servers.private_ca import PrivateCa

CA_PATH = "/opt/airflow/database-ca/ca.crt"
SSL_REQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")  # PostgreSQL's SSLRequest message
VERIFY_FULL_PUBLIC_CA = Scenario.of("database-tls-public-ca", {
    "postgresql": {"enabled": False},
    "data": {"metadataSecretName": "airflow-metadata-db", "tls": {"mode": "verify-full"}},
})  # fmt: skip


def airflow_async_url(sync_url: str) -> str:
    """The URL Airflow's async engine gets from `sync_url` (its own function). Airflow is imported the
    way the DAG tests import it (a throwaway home, the chart's worker env), whichever test runs first."""
    prepare_airflow_env()
    from airflow.settings import _get_async_conn_uri_from_sync

    return _get_async_conn_uri_from_sync(sync_url)


def database_containers(scenario: Scenario) -> dict[str, tuple[dict, dict]]:
    """Every container given the database URL, by `<kind>/<name>/<container>`, with its pod spec."""
    found = {}
    for obj in render(scenario).objects:
        if obj["kind"] not in ("Deployment", "Job", "StatefulSet"):
            continue
        spec = pod_spec(obj)
        for container in (spec.get("initContainers") or []) + spec["containers"]:
            if "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" in env(container):
                found[f"{obj['kind']}/{obj['metadata']['name']}/{container['name']}"] = (container, spec)
    return found


class TestRendered:
    def test_every_container_with_the_database_url_checks_the_server_against_the_ca(self):
        found = database_containers(scenarios.DATABASE_TLS)
        # The four components, their wait-for-migrations, and the migration Job.
        assert len(found) == 2 * len(SERVER_DEPLOYMENTS) + 1, sorted(found)
        for where, (container, spec) in found.items():
            variables = {k: v.get("value") for k, v in env(container).items()}
            assert variables["PGSSLMODE"] == "verify-full", where
            assert variables["PGSSLROOTCERT"] == CA_PATH, where
            (mount,) = [m for m in container["volumeMounts"] if CA_PATH.startswith(m["mountPath"] + "/")]
            volume = {v["name"]: v for v in spec["volumes"]}[mount["name"]]
            assert volume["configMap"] == {"name": "airflow-metadata-db-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}

    def test_worker_pods_get_no_database_settings(self):
        (worker,) = [p for p in pod_specs(render(scenarios.DATABASE_TLS).objects) if "pod-template" in p.origin]
        for container in worker.spec["containers"]:
            assert not {"PGSSLMODE", "PGSSLROOTCERT", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"} & set(env(container))
        assert "database-ca" not in {v["name"] for v in worker.spec["volumes"]}

    def test_verify_full_without_a_ca_uses_the_images_system_cas(self):
        for where, (container, spec) in database_containers(VERIFY_FULL_PUBLIC_CA).items():
            assert env(container)["PGSSLROOTCERT"]["value"] == "/etc/ssl/certs/ca-certificates.crt", where
            assert "database-ca" not in {v["name"] for v in spec["volumes"]}, where

    @pytest.mark.parametrize("scenario", [scenarios.DEFAULT, scenarios.EXTERNAL_DB], ids=lambda s: s.name)
    def test_no_tls_setting_unless_asked(self, scenario):
        for where, (container, _) in database_containers(scenario).items():
            assert not {"PGSSLMODE", "PGSSLROOTCERT"} & set(env(container)), where

    def test_prod_values_check_the_certificate_and_the_host_name(self):
        found = database_containers(scenarios.PROD)
        assert found and all(env(c)["PGSSLMODE"]["value"] == "verify-full" for c, _ in found.values())
        assert all(env(c)["PGSSLROOTCERT"]["value"] == CA_PATH for c, _ in found.values())

    def test_the_migration_job_fails_at_once_on_a_configuration_error(self):
        job = render(scenarios.DATABASE_TLS).get("Job", JOB)
        assert job["spec"]["podFailurePolicy"]["rules"] == [
            {"action": "FailJob", "onExitCodes": {"containerName": "run-migrations", "operator": "In", "values": [3]}}]
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
        assert containers(job)["run-migrations"]["terminationMessagePolicy"] == "FallbackToLogsOnError"


class TestUrlWithTlsParameters:
    @pytest.mark.parametrize("command", [migrate_command, wait_command], ids=["migrations", "wait-for-migrations"])
    @pytest.mark.parametrize("query", ["sslmode=require", "sslmode=verify-full&sslrootcert=/ca.crt", "application_name=x&sslmode=disable"])
    def test_is_refused_in_one_line_that_says_what_to_set_instead(self, run, command, query):
        result = run(command(scenarios.DATABASE_TLS), f"postgresql://airflow:s3cret@127.0.0.1:1/airflow?{query}")
        assert result.returncode == 3 and result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert "asyncpg" in line and "data.tls.mode" in line and "sslmode" in line and "s3cret" not in line
        assert "Secret airflow-metadata-db (key connection)" in line  # the Secret the chart reads the URL from

    def test_is_left_alone_when_the_async_url_is_given_separately(self, run, listening_port):
        url = f"postgresql://airflow:pw@127.0.0.1:{listening_port}/airflow?sslmode=require"
        result = run(migrate_command(scenarios.DEFAULT), url,
                     AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC="postgresql+asyncpg://x")  # fmt: skip
        assert result.returncode == 0 and result.stdout.splitlines()[-1] == "airflow db migrate", result.stderr

    def test_asyncpg_refuses_it_under_airflows_own_async_url(self):
        """Why the check exists: the URL Airflow derives for its async engine keeps the parameter."""
        import sqlalchemy.ext.asyncio

        url = airflow_async_url("postgresql://airflow:pw@127.0.0.1:1/airflow?sslmode=require")
        engine = sqlalchemy.ext.asyncio.create_async_engine(url)
        with pytest.raises(TypeError, match="sslmode"):
            asyncio.run(engine.connect().start())


@dataclass
class TlsEndpoint:
    port: int
    ca: PrivateCa


@pytest.fixture
def tls_endpoint(tmp_path_factory) -> Iterator[TlsEndpoint]:
    """127.0.0.1 answering PostgreSQL's SSLRequest with `S`, then a TLS handshake as `localhost` with a
    certificate its own CA signed, then closing: what a client learns before it would authenticate."""
    ca = PrivateCa("test database CA")
    crt, key = ca.issue("localhost", ["localhost"])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    folder = tmp_path_factory.mktemp("tls-endpoint")
    (folder / "tls.crt").write_bytes(crt)
    (folder / "tls.key").write_bytes(key)
    context.load_cert_chain(folder / "tls.crt", folder / "tls.key")
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    if conn.recv(8) == SSL_REQUEST:
                        conn.sendall(b"S")
                        context.wrap_socket(conn, server_side=True).close()
                except OSError:  # the client refused the certificate mid-handshake
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield TlsEndpoint(server.getsockname()[1], ca)
    stop.set()
    thread.join()
    server.close()


class TestConnectionCheckOfTheMigrationJob:
    def test_a_certificate_the_ca_did_not_sign_ends_the_job_in_one_line(self, run, tls_endpoint, tmp_path):
        other = tmp_path / "other-ca.crt"
        other.write_bytes(PrivateCa("another CA").pem)
        began = time.monotonic()
        result = run(migrate_command(scenarios.DATABASE_TLS), f"postgresql://airflow:s3cret@localhost:{tls_endpoint.port}/airflow",
                     PGSSLMODE="verify-full", PGSSLROOTCERT=str(other))  # fmt: skip
        assert time.monotonic() - began < 20
        assert result.returncode == 3 and "airflow db migrate" not in result.stdout
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"cannot connect to the metadata database at localhost:{tls_endpoint.port}: ")
        assert "certificate verify failed" in line and "data.tls.caCertConfigMap" in line and "s3cret" not in line

    def test_a_server_name_the_certificate_does_not_carry_ends_the_job(self, run, tls_endpoint, tmp_path):
        ca = tmp_path / "ca.crt"
        ca.write_bytes(tls_endpoint.ca.pem)
        result = run(migrate_command(scenarios.DATABASE_TLS), f"postgresql://airflow:pw@127.0.0.1:{tls_endpoint.port}/airflow",
                     PGSSLMODE="verify-full", PGSSLROOTCERT=str(ca))  # fmt: skip
        assert result.returncode == 3
        assert "does not match host name" in result.stderr, result.stderr

    def test_the_right_ca_passes_the_handshake_and_a_closed_connection_is_waited_out(self, run, tls_endpoint, tmp_path):
        ca = tmp_path / "ca.crt"
        ca.write_bytes(tls_endpoint.ca.pem)
        (line,) = run.watch(migrate_command(scenarios.DATABASE_TLS), f"postgresql://airflow:pw@localhost:{tls_endpoint.port}/airflow",
                            lines=1, PGSSLMODE="verify-full", PGSSLROOTCERT=str(ca))  # fmt: skip
        assert line.startswith(f"waiting for the metadata database at localhost:{tls_endpoint.port}: "), line
        assert "certificate" not in line

    def test_is_left_to_airflow_when_it_connects_otherwise(self, run, listening_port):
        result = run(migrate_command(scenarios.DATABASE_TLS), f"postgresql://airflow:pw@127.0.0.1:{listening_port}/airflow",
                     AIRFLOW__DATABASE__SQL_ALCHEMY_ENGINE_ARGS='{"pool_pre_ping": true}')  # fmt: skip
        assert result.stdout.splitlines() == ["[database] sql_alchemy_engine_args is set: leaving the connection to Airflow",
                                              "airflow db migrate"], result.stderr  # fmt: skip

    def test_the_embedded_database_is_not_checked_twice(self):
        assert "--check-connection" not in migrate_command(scenarios.DEFAULT)
        assert migrate_command(scenarios.DATABASE_TLS)[-1] == "--check-connection"


class TestAsyncpgReadsTheSameSettings:
    """The premise of data.tls: Airflow's async engine (asyncpg, through SQLAlchemy, from the URL Airflow
    derives) honours PGSSLMODE and PGSSLROOTCERT with no TLS parameter in the URL."""

    def connect(self, port: int, ca: Path, monkeypatch) -> BaseException:
        import sqlalchemy.ext.asyncio

        monkeypatch.setenv("PGSSLMODE", "verify-full")
        monkeypatch.setenv("PGSSLROOTCERT", str(ca))
        engine = sqlalchemy.ext.asyncio.create_async_engine(
            airflow_async_url(f"postgresql://airflow:pw@localhost:{port}/airflow"), connect_args={"timeout": 10})
        with pytest.raises(Exception) as failed:
            asyncio.run(engine.connect().start())
        return failed.value

    def test_a_certificate_the_ca_did_not_sign_is_refused(self, tls_endpoint, tmp_path, monkeypatch):
        other = tmp_path / "other-ca.crt"
        other.write_bytes(PrivateCa("another CA").pem)
        error = self.connect(tls_endpoint.port, other, monkeypatch)
        assert isinstance(error, ssl.SSLCertVerificationError), repr(error)

    def test_the_right_ca_passes_the_handshake(self, tls_endpoint, tmp_path, monkeypatch):
        ca = tmp_path / "ca.crt"
        ca.write_bytes(tls_endpoint.ca.pem)
        error = self.connect(tls_endpoint.port, ca, monkeypatch)
        assert not isinstance(error, ssl.SSLError), repr(error)  # the endpoint hung up after the handshake

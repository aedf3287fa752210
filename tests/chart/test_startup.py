"""How fast an install gets every component Ready, without a probe or a wait that costs idle CPU.

An Airflow CLI start costs seconds of CPU, so the waits around the migrations run none: the migration
Job waits for the database in plain Python, then runs `airflow db migrate`; each component's
`wait-for-migrations` init container reads the schema version with SQLAlchemy alone and hands over
to `airflow db check-migrations` only when something is out of the ordinary; the image's entrypoint
does not check the database again before each command; startup probes ask often while a server
starts and never run the Airflow CLI.

The chart's scripts (files/scripts) run here with the flags the chart renders for each pod, in this
interpreter (the project's Airflow, the image's) through the imported module, on a local socket or a
SQLite file, with a stand-in for os.execvp that prints what Airflow was asked; a command that keeps
waiting runs as a process, the way its pod runs it.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import inspect
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from unittest import mock

import pytest
from packaging.version import Version

from tests.lib.conformance.pod_specs_in_manifests import pod_specs
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import SERVER_DEPLOYMENTS, containers, env, init_containers
from tests.lib.render.helm_template import Scenario, render
from tests.lib.render.startup_scripts import (
    JOB,
    SCRIPTS,
    metadata_database,
    migrate_command,
    plain_settings,
    pod_commands,
    schema_migrations,
    wait_command,
)

URL_ENV = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
ALL_SCENARIOS = scenarios.ALL + scenarios.DETAIL_SCENARIOS


@pytest.fixture
def sqlite_url(tmp_path):
    """A SQLite database and a function setting its alembic_version (None: no such table yet)."""
    path = tmp_path / "airflow.db"

    def at(*revisions: str | None, table: str = "alembic_version") -> str:
        with sqlite3.connect(path) as db:
            db.execute(f"DROP TABLE IF EXISTS {table}")
            if revisions != (None,):
                db.execute(f"CREATE TABLE {table} (version_num VARCHAR(32) NOT NULL)")
                db.executemany(f"INSERT INTO {table} VALUES (?)", [(r,) for r in revisions])  # noqa: S608 - the test's own names
        return f"sqlite:///{path}"

    return at


@pytest.fixture(scope="module")
def fab_head() -> str:
    """The FAB provider's newest schema revision, from its own table of heads by release (read as text)."""
    spec = importlib.util.find_spec("airflow.providers.fab")
    source = Path(spec.submodule_search_locations[0], "auth_manager", "models", "db.py").read_text()
    heads = next(ast.literal_eval(node.value) for node in ast.walk(ast.parse(source))
                 if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "_REVISION_HEADS_MAP")  # fmt: skip
    return heads[max(heads, key=Version)]


@pytest.fixture(scope="module")
def airflow_head() -> str:
    """The revision the installed Airflow's `airflow db check-migrations` wants, from Airflow's own table of
    heads by release (utils/db.py, read as text: importing Airflow costs seconds)."""
    source = Path(importlib.util.find_spec("airflow").submodule_search_locations[0], "utils", "db.py").read_text()
    heads = next(ast.literal_eval(node.value) for node in ast.walk(ast.parse(source))
                 if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "_REVISION_HEADS_MAP")  # fmt: skip
    installed = Version(importlib.metadata.version("apache-airflow-core"))
    return heads[max((v for v in heads if Version(v) <= installed), key=Version)]


# The chart's scripts, imported by pod_commands.py when any command starts.
SIBLINGS = {path.stem for path in SCRIPTS.glob("*.py")}
# Imported by its command only (pod_commands.own_worker_pods): the scheduler's init container's, not every start's.
LAZY = {"worker_owner"}
# What every command imports before it runs: light modules of the standard library, no Airflow nor SQLAlchemy.
PLAIN = {"__future__", "argparse", "configparser", "datetime", "importlib.util", "json", "os", "re", "socket", "sys", "time"}


def imported_modules(nodes) -> set[str]:
    """The modules the import statements among `nodes` name (`from a import b`: a)."""
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module)
    return names


def started_imports() -> set[str]:
    """What any command has imported before it runs, but the chart's own modules: the import
    statements outside functions of each of them."""
    assert not LAZY & imported_modules(ast.parse(inspect.getsource(sys.modules["pod_commands"])).body)
    return set().union(*(imported_modules(ast.parse(inspect.getsource(sys.modules[name])).body)
                         for name in SIBLINGS - LAZY)) - SIBLINGS  # fmt: skip


def imports_in(*code) -> set[str]:
    """What the import statements inside these functions, classes or modules name."""
    return set().union(*(imported_modules(ast.walk(ast.parse(textwrap.dedent(inspect.getsource(c))))) for c in code))


class TestMigrationJob:
    def test_one_container_waits_for_the_database_then_migrates(self):
        job = render(scenarios.DEFAULT).get("Job", JOB)
        assert "initContainers" not in job["spec"]["template"]["spec"]
        command = migrate_command()
        assert command == ["migrate", "--timeout", "300", "--metadata-secret", "airflow-metadata"]
        assert command[command.index("--timeout") + 1] == "300"  # the embedded database gets 5 minutes to start
        # Plain Python before Airflow takes over: importing Airflow or SQLAlchemy costs seconds of CPU.
        assert started_imports() <= PLAIN
        assert imports_in(pod_commands.migrate, metadata_database.wait_for_database, metadata_database.DatabaseUrl,
                          metadata_database.refuse_tls_parameters, metadata_database.Deadline) == set()  # fmt: skip

    @pytest.mark.parametrize("url", [
        "postgresql://airflow:s3cr/t?#:x@127.0.0.1:{port}/airflow",
        "postgresql+psycopg2://127.0.0.1:{port}/airflow?application_name=airflow",
        "mysql+mysqldb://airflow:pw@127.0.0.1:{port}/airflow",
    ], ids=["password-with-url-characters", "no-user", "mysql"])  # fmt: skip
    def test_migrates_once_the_database_accepts_connections(self, run, url, listening_port):
        result = run(migrate_command(), url.format(port=listening_port))
        assert result.returncode == 0, result.stderr
        assert result.stdout == "airflow db migrate\n"

    @pytest.mark.parametrize("url", ["postgresql://airflow:pw@/airflow?host=/cloudsql/project:region:db",
                                     "sqlite:////opt/airflow/airflow.db"], ids=["unix-socket", "sqlite"])  # fmt: skip
    def test_does_not_wait_for_a_url_without_a_tcp_host(self, run, url):
        assert run(migrate_command(), url).stdout == "airflow db migrate\n"

    def test_polls_every_second_and_says_where_but_not_the_password(self, run, closed_port):
        started = time.monotonic()
        lines = run.watch(migrate_command(), f"postgresql://airflow:pw@127.0.0.1:{closed_port}/airflow", lines=2)
        assert time.monotonic() - started < 30
        for line in lines:
            assert line.startswith(f"waiting for the metadata database at 127.0.0.1:{closed_port}: "), lines
            assert "pw" not in line


class TestWaitForMigrations:
    @pytest.mark.parametrize("name", SERVER_DEPLOYMENTS)
    def test_every_component_waits_with_the_same_command(self, name):
        assert "wait-for-migrations" in init_containers(render(scenarios.DEFAULT).get("Deployment", name))
        assert wait_command(name=name) == wait_command()
        assert wait_command() == ["wait-for-migrations", "--timeout", "600", "--metadata-secret", "airflow-metadata",
                                  "--auth-manager", "simple"]  # fmt: skip

    def test_imports_no_airflow(self):
        # importlib finds the Airflow package's folder without importing it; SQLAlchemy reads the version.
        used = imports_in(pod_commands.wait_for_migrations, metadata_database, schema_migrations, plain_settings)
        assert (started_imports() | used) - SIBLINGS <= PLAIN | {"sqlalchemy"}
        assert imports_in(schema_migrations.wait_for_migrations) == {"sqlalchemy"}

    def test_finding_the_migration_scripts_imports_no_airflow(self, airflow_head, fab_head):
        # Looking up `airflow.providers.fab` would import `airflow` and initialise its settings: seconds
        # in every component's init container. Run alone, as the init container runs it.
        script = ("import sys, schema_migrations as m; "
                  "print(sorted(m.migration_revisions(m.AIRFLOW_SCHEMA[0])[1] | m.migration_revisions(m.FAB_SCHEMA[0])[1]), "
                  "'airflow' in sys.modules)")  # fmt: skip
        done = subprocess.run([sys.executable, "-c", script], cwd=SCRIPTS, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"{sorted([airflow_head, fab_head])} False"

    def test_goes_on_at_the_head_of_this_airflows_migrations(self, run, sqlite_url, airflow_head):
        started = time.monotonic()
        result = run(wait_command(), sqlite_url(airflow_head))
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""  # Airflow was not asked
        assert time.monotonic() - started < 30

    @pytest.mark.parametrize("state", ["no-table", "older-revision"])
    def test_waits_while_the_migrations_run(self, run, sqlite_url, airflow_head, state):
        url = sqlite_url(None) if state == "no-table" else sqlite_url("29ce7909c52b")  # 3.0.0's head
        found = "no revision" if state == "no-table" else "29ce7909c52b"
        # Said once, not every second, and Airflow not asked.
        assert run.watch(wait_command(), url, lines=1, then_quiet_for=2.5) == [
            f"waiting for the migrations: alembic_version is at {found}, this image needs {airflow_head}\n", ""]

    def test_gives_up_when_the_wait_is_over(self, run, sqlite_url, airflow_head):
        command = wait_command(Scenario.of("short-migration-wait", {"migrations": {"waitTimeoutSeconds": 45}}))
        assert command[command.index("--timeout") + 1] == "45"
        with mock.patch.object(metadata_database.Deadline, "passed", lambda _: True):  # 45 s later
            result = run(command, sqlite_url(None))
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr == f"the migrations did not finish in 45 s: alembic_version is at no revision, this image needs {airflow_head}\n"

    def test_goes_on_as_soon_as_the_migrations_are_done(self, run, sqlite_url, airflow_head):
        url = sqlite_url(None)
        environ = {URL_ENV: url, "PATH": run.path}
        with subprocess.Popen([sys.executable, str(SCRIPTS / "pod_commands.py"), *wait_command()], env=environ,
                              stdout=subprocess.PIPE, text=True) as waiter:  # fmt: skip
            try:
                assert waiter.stdout.readline().startswith("waiting for the migrations")
                sqlite_url(airflow_head)
                assert waiter.wait(timeout=10) == 0
                assert waiter.stdout.read() == ""
            finally:
                waiter.kill()

    @pytest.mark.parametrize("case", ["unknown-revision", "engine-args", "connect-args"])
    def test_hands_over_to_airflow_when_out_of_the_ordinary(self, run, sqlite_url, airflow_head, case):
        if case == "unknown-revision":  # a database newer than this image, or scripts read wrong
            result = run(wait_command(), sqlite_url("0123456789ab"))
        else:  # Airflow would connect with settings the plain URL lacks
            key = f"AIRFLOW__DATABASE__SQL_ALCHEMY_{case.split('-')[0].upper()}_ARGS"
            result = run(wait_command(), sqlite_url(airflow_head), **{key: "{}"})
        assert result.returncode == 0, result.stderr
        check = result.stdout.splitlines()[-1].split()
        assert check[:4] == ["airflow", "db", "check-migrations", "--migration-wait-timeout"]
        assert 500 < int(check[4]) <= 600  # what is left of the wait

    def test_a_custom_auth_manager_leaves_the_check_to_airflow(self, run, sqlite_url, airflow_head):
        # A custom manager's tables may have their own version, which only Airflow's check knows.
        result = run(wait_command(scenarios.CUSTOM_AUTH), sqlite_url(airflow_head))
        assert result.stdout.splitlines()[-1].startswith("airflow db check-migrations --migration-wait-timeout ")

    def test_with_fab_it_waits_for_fabs_tables_too(self, run, sqlite_url, airflow_head, fab_head):
        command = wait_command(scenarios.FAB_OIDC)
        assert command[command.index("--auth-manager") + 1] == "fab"
        url = sqlite_url(airflow_head)
        assert run.watch(command, url, lines=1, then_quiet_for=2.5) == [
            f"waiting for the migrations: alembic_version_fab is at no revision, this image needs {fab_head}\n", ""]
        sqlite_url(fab_head, table="alembic_version_fab")
        result = run(command, url)
        assert (result.returncode, result.stdout) == (0, ""), result.stderr  # Airflow was not asked

    def test_waits_for_the_database_first(self, run, closed_port):
        lines = run.watch(wait_command(), f"postgresql://airflow:pw@127.0.0.1:{closed_port}/airflow", lines=2)
        assert all(line.startswith(f"waiting for the metadata database at 127.0.0.1:{closed_port}: ") for line in lines)


class TestDatabaseCommandsAlone:
    """The database wait and the connection check the Job and the init containers chain, each run on
    its own (as one would with `kubectl exec` to see what a pod sees)."""

    def test_the_wait_returns_as_soon_as_the_database_answers(self, run, listening_port):
        result = run(["wait-for-database", "--timeout", "5", "--metadata-secret", "airflow-metadata"],
                     f"postgresql://airflow:pw@127.0.0.1:{listening_port}/airflow")  # fmt: skip
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")

    def test_the_wait_gives_up_at_its_timeout_in_one_line(self, run, closed_port):
        result = run(["wait-for-database", "--timeout", "1", "--metadata-secret", "airflow-metadata"],
                     f"postgresql://airflow:pw@127.0.0.1:{closed_port}/airflow")  # fmt: skip
        assert result.returncode == 1 and result.stdout.startswith("waiting for the metadata database at ")
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"the metadata database at 127.0.0.1:{closed_port} did not answer in 1 s: ")

    def test_the_check_connects_once_and_says_nothing_when_it_can(self, run, sqlite_url):
        result = run(["check-database-connection", "--timeout", "5", "--metadata-secret", "airflow-metadata"],
                     sqlite_url(None))  # fmt: skip
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")

    def test_the_check_refuses_a_url_with_tls_parameters_too(self, run):
        result = run(["check-database-connection", "--timeout", "5", "--metadata-secret", "airflow-metadata"],
                     "postgresql://airflow:pw@127.0.0.1:1/airflow?sslmode=require")  # fmt: skip
        assert result.returncode == 3 and "Secret airflow-metadata (key connection) sets sslmode" in result.stderr


class TestNoDatabaseCheckInTheEntrypoint:
    @pytest.mark.parametrize("scenario", ALL_SCENARIOS, ids=lambda s: s.name)
    def test_every_airflow_server_container_turns_the_entrypoint_check_off(self, scenario):
        # The image's entrypoint runs `airflow db check` before each Airflow command unless
        # CONNECTION_CHECK_MAX_COUNT is 0; the Job and wait-for-migrations have waited, cheaply.
        for pod in pod_specs(render(scenario).objects):
            if pod.origin.startswith(("Deployment/", "Job/")):
                for container in pod.spec["containers"] + (pod.spec.get("initContainers") or []):
                    if (container.get("args") or [""])[0] in ("airflow", "python"):
                        check = env(container).get("CONNECTION_CHECK_MAX_COUNT", {}).get("value")
                        assert check == "0", f"{pod.origin}/{container['name']}"


class TestInitOrder:
    def test_api_server_copies_the_passwords_while_the_migrations_run(self):
        inits = list(init_containers(render(scenarios.DEFAULT).get("Deployment", "airflow-api-server")))
        assert inits == ["copy-simple-auth-passwords", "wait-for-migrations"]

    def test_git_sync_clones_while_the_migrations_run(self):
        for name in ("airflow-dag-processor", "airflow-triggerer"):
            inits = list(init_containers(render(scenarios.GITSYNC_HTTPS).get("Deployment", name)))
            assert inits == ["git-sync-init", "wait-for-migrations"], name


class TestProbes:
    @pytest.mark.parametrize("name,path", [("airflow-api-server", "/api/v2/monitor/health"),
                                           ("airflow-scheduler", "/health")])  # fmt: skip
    def test_servers_are_ready_within_seconds_of_answering(self, name, path):
        deployment = render(scenarios.DEFAULT).get("Deployment", name)
        (container,) = containers(deployment).values()
        startup = container["startupProbe"]
        assert startup["httpGet"]["path"] == path
        assert startup["periodSeconds"] <= 2
        assert startup.get("initialDelaySeconds", 0) == 0
        # Still 5 minutes for a slow start before the kubelet restarts the container.
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 300

    def test_the_database_is_ready_within_a_second(self):
        container = containers(render(scenarios.DEFAULT).get("StatefulSet", "airflow-postgresql"))["postgresql"]
        startup = container["startupProbe"]
        assert startup["exec"]["command"][0] == "pg_isready"
        assert startup["periodSeconds"] == 1
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 300

    @pytest.mark.parametrize("scenario", ALL_SCENARIOS, ids=lambda s: s.name)
    def test_no_probe_runs_the_airflow_cli_often(self, scenario):
        # An `airflow ...` start costs seconds of CPU: only a liveness probe may run one, at most
        # once a minute; startup and readiness probes, which gate Ready, stay HTTP or tiny commands.
        for pod in pod_specs(render(scenario).objects):
            for container in pod.spec["containers"]:
                for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                    command = (container.get(kind, {}).get("exec") or {}).get("command") or [""]
                    if command[0] == "airflow":
                        where = f"{pod.origin}/{container['name']} {kind}"
                        assert kind == "livenessProbe", where
                        assert container[kind]["periodSeconds"] >= 60, where

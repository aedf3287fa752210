"""The triggerer's and dag-processor's liveness probe (templates/_probes.tpl): the chart's
`job-alive` command (files/scripts/job_liveness.py), run with the flags the chart renders.

It answers what `airflow jobs check --job-type <type> --local` answers (one job of the type running
on this host has heartbeaten within Airflow's threshold) without starting the Airflow CLI. Here it runs
in this interpreter (the project's Airflow, the image's) through the imported module, against a SQLite
file holding Airflow's own `job` table; rows are written with Airflow's hostname function, so the
probe's copy of it must agree. A stand-in for os.execvp shows when the probe hands over to the real
check.
"""

from __future__ import annotations

import ast
import inspect
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy

from tests.lib.dag_bundle.offline_airflow import prepare_airflow_env
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import containers
from tests.lib.render.helm_template import Scenario, render
from tests.lib.render.startup_scripts import ENTRY, Ran, command_of, job_liveness, plain_settings, pod_commands

COMPONENTS = {"airflow-triggerer": ("triggerer", "TriggererJob", "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD"),
              "airflow-dag-processor": ("dag-processor", "DagProcessorJob",
                                        "AIRFLOW__DAG_PROCESSOR__HEALTH_CHECK_THRESHOLD")}  # fmt: skip


def probe_of(name: str) -> dict:
    container, _, _ = COMPONENTS[name]
    return containers(render(scenarios.DEFAULT).get("Deployment", name))[container]["livenessProbe"]


@pytest.fixture
def job_table(tmp_path):
    """A SQLite database with Airflow's job table; `add(job_type, seconds_ago, state, hostname)`."""
    prepare_airflow_env()  # a throwaway AIRFLOW_HOME: importing Airflow must not touch ~/airflow
    from airflow.jobs.job import Job
    from airflow.utils.net import getfqdn

    url = f"sqlite:///{tmp_path / 'airflow.db'}"
    engine = sqlalchemy.create_engine(url)
    Job.__table__.create(engine)

    def add(job_type: str, seconds_ago: float, state: str = "running", hostname: str | None = None) -> None:
        beat = datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)
        with engine.begin() as connection:
            connection.execute(sqlalchemy.insert(Job.__table__).values(
                job_type=job_type, state=state, hostname=hostname or getfqdn(), latest_heartbeat=beat,
                start_date=beat))  # fmt: skip

    add.url = url
    return add


@pytest.fixture
def probe(run, tmp_path, job_table):
    """Run the command of a component's rendered probe against the job table (conftest's `run`:
    os.execvp only prints what Airflow was asked)."""

    def run_probe(name: str, **extra_env: str) -> Ran:
        command = probe_of(name)["exec"]["command"]
        assert command[:2] == ["python", ENTRY], command
        # The threshold is read where Airflow reads it: the section and key of its env variable.
        _, job_type, threshold_env = COMPONENTS[name]
        section, key = threshold_env.split("__")[1:]
        assert command_of(command) == ["job-alive", "--job-type", job_type, "--threshold-section", section.lower(),
                                       "--threshold-key", key.lower()]  # fmt: skip
        return run(command_of(command), job_table.url, AIRFLOW_HOME=str(tmp_path), **extra_env)

    return run_probe


@pytest.mark.parametrize("name", sorted(COMPONENTS))
class TestJobLiveness:
    def test_alive_with_one_recent_heartbeat_on_this_host(self, probe, job_table, name):
        job_table(COMPONENTS[name][1], 3)
        result = probe(name)
        assert result.returncode == 0, result.stderr
        ago = re.search(rf"{COMPONENTS[name][1]} alive: last heartbeat (\d+) s ago", result.stdout)
        assert ago and 3 <= int(ago[1]) < 15, result.stdout

    def test_dead_when_the_heartbeat_is_older_than_airflows_threshold(self, probe, job_table, name):
        job_table(COMPONENTS[name][1], 45)  # Airflow's threshold: 30 s
        result = probe(name)
        assert result.returncode == 1
        ago = re.search(r"heartbeat within 30 s \(last heartbeat (\d+) s ago\)", result.stderr)
        assert ago and 45 <= int(ago[1]) < 60, result.stderr

    def test_the_threshold_is_airflows_setting(self, probe, job_table, name):
        job_table(COMPONENTS[name][1], 45)
        assert probe(name, **{COMPONENTS[name][2]: "60"}).returncode == 0

    def test_only_this_hosts_running_job_of_this_type_counts(self, probe, job_table, name):
        other = next(j for _, j, _ in COMPONENTS.values() if j != COMPONENTS[name][1])
        job_table(COMPONENTS[name][1], 2, hostname="another-pod")
        job_table(COMPONENTS[name][1], 2, state="success")
        job_table(other, 2)
        result = probe(name)
        assert result.returncode == 1
        assert "(none running)" in result.stderr, result.stderr

    def test_two_alive_jobs_on_one_host_fail_as_airflows_check_does(self, probe, job_table, name):
        job_table(COMPONENTS[name][1], 2)
        job_table(COMPONENTS[name][1], 4)
        result = probe(name)
        assert result.returncode == 1
        assert "expected one" in result.stderr, result.stderr

    @pytest.mark.parametrize("setting", ["AIRFLOW__CORE__HOSTNAME_CALLABLE", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"])
    def test_hands_over_to_airflow_when_out_of_the_ordinary(self, probe, name, setting):
        result = probe(name, **{setting: "my_module.value"})
        assert f"airflow jobs check --job-type {COMPONENTS[name][1]} --local" in result.stdout, result.stdout

    def test_starts_no_airflow(self, name):
        assert command_of(probe_of(name)["exec"]["command"])[0] == "job-alive"
        tree = ast.parse("\n".join(inspect.getsource(m) for m in (pod_commands, job_liveness, plain_settings)))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} | {
            n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not [m for m in imported if m == "airflow" or m.startswith("airflow.")], imported

    def test_a_hung_process_is_killed_within_two_minutes(self, name):
        # The heartbeat goes stale after Airflow's threshold (30 s), the first failed probe comes at
        # most a period later, the kubelet kills after failureThreshold of them and the grace period.
        deployment = render(scenarios.DEFAULT).get("Deployment", name)
        liveness = probe_of(name)
        grace = deployment["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
        assert 30 + liveness["periodSeconds"] * liveness["failureThreshold"] + grace <= 120
        assert liveness["timeoutSeconds"] < liveness["periodSeconds"]


class TestDriver:
    """PostgreSQL is read with psycopg2 alone (its import is most of what the probe costs, and
    SQLAlchemy's five times as much); a URL libpq cannot read goes through SQLAlchemy."""

    @pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg2", "postgresql+psycopg"])
    def test_postgresql_is_read_with_psycopg2_alone(self, probe, closed_port, scheme):
        result = probe("airflow-triggerer", AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"{scheme}://a:pw@127.0.0.1:{closed_port}/airflow")
        assert result.returncode == 1
        assert "psycopg2.OperationalError" in result.stderr and "sqlalchemy" not in result.stderr, result.stderr

    def test_a_url_libpq_cannot_read_goes_through_sqlalchemy(self, probe, closed_port):
        url = f"postgresql://a:pw@127.0.0.1:{closed_port}/airflow?pool_timeout_is_not_libpq=1"
        result = probe("airflow-triggerer", AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=url)
        assert result.returncode == 1 and "sqlalchemy" in result.stderr, result.stderr


class TestTriggererHostname:
    """The chart names the triggerer by its pod IP (its log server must be reachable by that name);
    the probe finds the job row under the name Airflow's own hostname function gives it."""

    def test_the_triggerer_is_named_by_its_ip_and_found_so(self, probe, job_table):
        from airflow.utils.net import get_host_ip_address

        (container,) = [c for c in containers(render(scenarios.DEFAULT).get("Deployment", "airflow-triggerer")).values()
                        if c["name"] == "triggerer"]  # fmt: skip
        callable_ = {e["name"]: e.get("value") for e in container["env"]}["AIRFLOW__CORE__HOSTNAME_CALLABLE"]
        assert callable_ == "airflow.utils.net.get_host_ip_address"
        job_table("TriggererJob", 3, hostname=get_host_ip_address())
        result = probe("airflow-triggerer", AIRFLOW__CORE__HOSTNAME_CALLABLE=callable_)
        assert result.returncode == 0 and "TriggererJob alive" in result.stdout, result.stdout + result.stderr

    def test_a_hostname_callable_of_yours_is_kept(self):
        scenario = Scenario.of("own-hostname-callable", {"config": {"core": {"hostname_callable": "my.module.name"}}})
        (container,) = [c for c in containers(render(scenario).get("Deployment", "airflow-triggerer")).values()
                        if c["name"] == "triggerer"]  # fmt: skip
        assert "AIRFLOW__CORE__HOSTNAME_CALLABLE" not in {e["name"] for e in container["env"]}


"""airflow.cfg: what the chart derives, what users override, and that every key is real Airflow config."""

from __future__ import annotations

import functools
import importlib.util
import random
from pathlib import Path

import pytest
import tenacity
import yaml

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import airflow_cfg
from tests.lib.render.helm_template import render


@functools.cache
def known_options() -> dict[str, set[str]]:
    """Sections and options Airflow 3.3.2 and the cncf.kubernetes provider declare (installed packages)."""
    airflow_dir = Path(importlib.util.find_spec("airflow").submodule_search_locations[0])
    config = yaml.safe_load((airflow_dir / "config_templates" / "config.yml").read_text())
    options = {section: set(body["options"]) for section, body in config.items()}
    provider_info = airflow_dir / "providers" / "cncf" / "kubernetes" / "get_provider_info.py"
    namespace: dict = {}
    exec(compile(provider_info.read_text(), str(provider_info), "exec"), namespace)  # a plain dict literal
    for section, body in namespace["get_provider_info"]()["config"].items():
        options.setdefault(section, set()).update(body["options"])
    return options


def option(cfg, section: str, key: str) -> str:
    """`[section] key` as the rendered airflow.cfg sets it, else Airflow's own default."""
    if cfg.has_option(section, key):
        return cfg[section][key]
    from airflow.configuration import conf

    return conf.get_default_value(section, key)


class TestAirflowConfig:
    def test_kubernetes_executor_and_its_settings(self):
        cfg = airflow_cfg(render(scenarios.DEFAULT))
        assert cfg["core"]["executor"] == "KubernetesExecutor"
        assert cfg["core"]["execution_api_server_url"] == "http://airflow-api-server.airflow:8080/execution/"
        assert cfg["kubernetes_executor"]["namespace"] == "airflow"
        assert cfg["kubernetes_executor"]["pod_template_file"] == "/opt/airflow/pod_templates/pod_template_file.yaml"

    def test_a_replacement_scheduler_adopts_and_cleans_up_worker_pods_within_a_minute(self):
        # Seen on the real node: after the scheduler pod was deleted mid-task, the finished worker
        # pod stayed until the next adoption round, 300 s later with Airflow's default.
        assert airflow_cfg(render(scenarios.DEFAULT))["scheduler"]["orphaned_tasks_check_interval"] == "60"

    def test_new_dag_files_are_picked_up_within_a_minute(self):
        # Seen on the real node: DAG files written to a claim after start-up were listed only after
        # Airflow's default 300 s rescan.
        assert airflow_cfg(render(scenarios.DEFAULT))["dag_processor"]["refresh_interval"] == "60"

    def test_a_task_outlives_an_api_server_replaced_under_it(self, monkeypatch):
        # Seen on a loaded CI node: the api-server pod deleted mid-task, its replacement Ready after more
        # than a minute, and the task failed on Airflow's default retries (about ten seconds per call).
        # Each execution API call waits between tries as the Task SDK's client does (tenacity's
        # wait_random_exponential over [workers] execution_api_retry_wait_min/max); here the chart's
        # settings are played through that same wait, at the middle and at the top of each random draw.
        cfg = airflow_cfg(render(scenarios.DEFAULT))
        tries = int(option(cfg, "workers", "execution_api_retries"))
        wait = tenacity.wait_random_exponential(min=float(option(cfg, "workers", "execution_api_retry_wait_min")),
                                                max=float(option(cfg, "workers", "execution_api_retry_wait_max")))

        def waited(draw) -> float:
            """Seconds of waiting before the last try, each random draw made by `draw(low, high)`."""
            monkeypatch.setattr(random, "uniform", draw)
            total = 0.0
            for attempt in range(1, tries):
                state = tenacity.RetryCallState(None, None, (), {})
                state.attempt_number = attempt
                total += wait(state)
            return total

        typical = waited(lambda low, high: (low + high) / 2)
        longest = waited(lambda low, high: high)
        assert typical >= 120, f"a call gives up after about {typical:.0f} s: a slow api-server replacement fails the task"
        heartbeat_timeout = float(option(cfg, "scheduler", "task_instance_heartbeat_timeout"))
        assert longest < heartbeat_timeout, (
            f"a call may retry for {longest:.0f} s, past the scheduler's task_instance_heartbeat_timeout "
            f"({heartbeat_timeout:.0f} s): the task would outlive the scheduler's verdict on it")

    @pytest.mark.parametrize("scenario,folder", [
        (scenarios.DEFAULT, "/opt/airflow/dags"),
        (scenarios.PVC_DAGS, "/opt/airflow/dags"),
        (scenarios.GITSYNC_HTTPS, "/opt/airflow/dags/repo/dags"),
        (scenarios.GITSYNC_SSH_KNOWN_HOSTS, "/opt/airflow/dags/repo"),
    ], ids=lambda v: getattr(v, "name", v))
    def test_dags_folder_follows_the_dag_source(self, scenario, folder):
        assert airflow_cfg(render(scenario))["core"]["dags_folder"] == folder

    def test_user_values_are_rendered_and_win(self):
        assert airflow_cfg(render(scenarios.DEV))["core"]["parallelism"] == "6"
        assert airflow_cfg(render(scenarios.PROD))["core"]["parallelism"] == "64"

    @pytest.mark.parametrize("scenario", scenarios.ALL + scenarios.DETAIL_SCENARIOS, ids=lambda s: s.name)
    def test_every_key_is_one_airflow_declares(self, scenario):
        known = known_options()
        cfg = airflow_cfg(render(scenario))
        for section in cfg.sections():
            assert section in known, f"[{section}] is not an Airflow config section"
            for option in cfg[section]:
                assert option in known[section], f"[{section}] {option} is not an Airflow 3.3.2 option"

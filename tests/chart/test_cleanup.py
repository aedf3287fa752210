"""The cleanup CronJob: Airflow's own `airflow kubernetes cleanup-pods` over the release namespace,
with the ages values give, as a command Airflow's CLI accepts."""

from __future__ import annotations

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import airflow_cfg
from tests.lib.render.helm_template import render


def cleanup_container(rendered) -> dict:
    cronjob = rendered.get("CronJob", "airflow-cleanup")
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return container


def test_cleans_the_release_namespace_after_the_ages_values_give():
    rendered = render(scenarios.DEFAULT)
    args = cleanup_container(rendered)["args"]
    assert args == ["airflow", "kubernetes", "cleanup-pods", "--namespace", "airflow",
                    "--min-completed-minutes", "1440", "--min-pending-minutes", "60"]  # fmt: skip
    assert rendered.get("CronJob", "airflow-cleanup")["spec"]["concurrencyPolicy"] == "Forbid"


def test_airflows_cli_accepts_the_command_with_the_executor_the_chart_configures():
    from tests.lib.dag_bundle.offline_airflow import prepare_airflow_env

    prepare_airflow_env()
    from airflow.cli.cli_parser import get_parser

    # The `kubernetes` command group exists only with the KubernetesExecutor configured, as the chart does.
    assert airflow_cfg(render(scenarios.DEFAULT))["core"]["executor"] == "KubernetesExecutor"
    parsed = get_parser().parse_args(cleanup_container(render(scenarios.DEFAULT))["args"][1:])
    assert (parsed.namespace, parsed.min_completed_minutes, parsed.min_pending_minutes) == ("airflow", 1440, 60)
    assert parsed.func.__name__ in {"cleanup_pods", "command"}

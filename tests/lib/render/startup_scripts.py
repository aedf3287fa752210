"""The Python the chart renders into its start-up containers, as text to run: the migration Job's
(wait for the database, connect, migrate) and the components' `wait-for-migrations` init container's."""

from __future__ import annotations

from typing import Any

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import containers, init_containers
from tests.lib.render.helm_template import Scenario, render

JOB = "airflow-run-migrations"


def script_of(container: dict[str, Any]) -> str:
    assert container["args"][:2] == ["python", "-c"], container["args"]
    return container["args"][2]


def migrate_script(scenario: Scenario = scenarios.DEFAULT) -> str:
    return script_of(containers(render(scenario).get("Job", JOB))["run-migrations"])


def wait_script(scenario: Scenario = scenarios.DEFAULT, name: str = "airflow-scheduler") -> str:
    return script_of(init_containers(render(scenario).get("Deployment", name))["wait-for-migrations"])

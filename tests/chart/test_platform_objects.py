"""What a platform team adds around the pods: its own manifests, disruption budgets of its choosing,
a LoadBalancer Service, and airflow.cfg values that name the release (scenario `platform-objects`)."""

from __future__ import annotations

import pytest

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import airflow_cfg
from tests.lib.render.helm_template import Rendered, render


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    return render(scenarios.PLATFORM_OBJECTS)


def test_extra_objects_are_templated_and_installed_with_the_release(rendered: Rendered):
    assert rendered.get("ConfigMap", "airflow-ca-bundle")["data"] == {"ca.crt": "-----BEGIN CERTIFICATE-----"}
    assert rendered.get("PriorityClass", "airflow-critical")["value"] == 1000, "a manifest given as a string"
    assert render(scenarios.DEFAULT).from_template("extra-objects.yaml") == []


def test_a_budget_of_the_users_choosing_or_none(rendered: Rendered):
    scheduler = rendered.get("PodDisruptionBudget", "airflow-scheduler")["spec"]
    assert scheduler["minAvailable"] == "50%" and "maxUnavailable" not in scheduler
    assert rendered.maybe("PodDisruptionBudget", "airflow-api-server") is None, "podDisruptionBudget.enabled: false"


def test_the_api_server_service_takes_annotations_and_source_ranges(rendered: Rendered):
    service = rendered.get("Service", "airflow-api-server")
    assert service["metadata"]["annotations"] == {"example.com/lb-scheme": "internal"}
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["loadBalancerSourceRanges"] == ["10.0.0.0/8"]


def test_config_values_may_name_the_release_and_airflows_own_templates_stay(rendered: Rendered):
    cfg = airflow_cfg(rendered)
    assert cfg["api"]["instance_name"] == "airflow in airflow"
    assert cfg["logging"]["log_filename_template"] == "dag_id={{ ti.dag_id }}/attempt={{ try_number }}.log"

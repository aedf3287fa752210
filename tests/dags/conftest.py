"""Fixtures of the DAG bundle tests: the bundle is parsed once per session and shared.

Parsing imports Airflow (several seconds), so every test reuses one DagBag and one set of built
pods (lib.dag_pods caches both); Airflow runs against a throwaway AIRFLOW_HOME.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.lib import dag_pods


@pytest.fixture(scope="session")
def dag_bag() -> Any:
    return dag_pods.dag_bag()


@pytest.fixture(scope="session")
def dags(dag_bag) -> dict[str, Any]:
    return dag_bag.dags


@pytest.fixture(scope="session")
def pods() -> tuple[dag_pods.DagPod, ...]:
    return dag_pods.dag_pods()

"""Fixtures of the DAG bundle tests: the bundle is parsed once per session and shared.

Parsing imports Airflow (several seconds), so every test reuses one DagBag and one set of built
pods (tests/lib/dag_bundle caches both); Airflow runs against a throwaway AIRFLOW_HOME.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.lib.dag_bundle import bundle_pods, offline_airflow


@pytest.fixture(scope="session")
def dag_bag() -> Any:
    return offline_airflow.dag_bag()


@pytest.fixture(scope="session")
def dags(dag_bag) -> dict[str, Any]:
    return dag_bag.dags


@pytest.fixture(scope="session")
def pods() -> tuple[bundle_pods.DagPod, ...]:
    return bundle_pods.dag_pods()

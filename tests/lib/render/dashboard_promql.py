"""The Grafana dashboard the chart ships (charts/airflow/dashboards/airflow.json): its panels' PromQL,
as Prometheus sees it once Grafana has filled in the dashboard's variables."""

from __future__ import annotations

import json
import re

from tests.lib.paths import CHART

DASHBOARD = CHART / "dashboards" / "airflow.json"


def panel_exprs() -> dict[str, str]:
    """'<panel title> [<refId>]' -> the target's PromQL, variables unfilled."""
    dashboard = json.loads(DASHBOARD.read_text())
    return {f"{p['title']} [{t['refId']}]": t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])}


def as_promql(expr: str, namespace: str) -> str:
    """A panel's PromQL with Grafana's variables filled in: the release's namespace, every DAG, and a
    rate window of a few scrapes."""
    return expr.replace("$__rate_interval", "1m").replace("$namespace", namespace).replace("$dag_id", ".*")


def metric_names(expr: str) -> set[str]:
    """The metrics a panel reads (the dashboard reads only the release's, prefixed airflow_): names
    outside label matchers, strings and `by (...)` clauses."""
    without = re.sub(r'\{[^}]*\}|"[^"]*"|by \([^)]*\)', "", expr)
    return set(re.findall(r"\bairflow_[a-z0-9_]+\b", without))

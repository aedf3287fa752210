"""What a values file costs a cluster: pods, and CPU/memory requests and limits per component.

A pod's effective request is max(largest init container, sum of app containers), as the scheduler counts it.
"""

from __future__ import annotations

from collections import defaultdict

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import quantity
from tests.lib.render.helm_template import render

WORKLOAD_KINDS = ("Deployment", "StatefulSet")


def pod_totals(spec: dict) -> dict[str, float]:
    def total(containers: list[dict], section: str) -> tuple[float, float]:
        cpu = sum(quantity(c.get("resources", {}).get(section, {}).get("cpu", 0)) for c in containers)
        mem = sum(quantity(c.get("resources", {}).get(section, {}).get("memory", 0)) for c in containers)
        return cpu, mem

    out = {}
    for section in ("requests", "limits"):
        app_cpu, app_mem = total(spec.get("containers", []), section)
        init = [total([c], section) for c in spec.get("initContainers", [])]
        out[f"{section}_cpu"] = max([app_cpu, *(c for c, _ in init)])
        out[f"{section}_memory_gib"] = max([app_mem, *(m for _, m in init)]) / 2**30
    return out


def component_of(obj: dict) -> str:
    labels = obj["metadata"].get("labels", {})
    return labels.get("component") or labels.get("app.kubernetes.io/component") or obj["metadata"]["name"]


def measure() -> list[dict]:
    rows = []
    for scenario in (scenarios.DEV, scenarios.PROD):
        rendered = render(scenario)
        per_component: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for obj in rendered.objects:
            if obj.get("kind") not in WORKLOAD_KINDS:
                continue
            replicas = obj["spec"].get("replicas", 1)
            comp = per_component[component_of(obj)]
            comp["pods"] += replicas
            for key, value in pod_totals(obj["spec"]["template"]["spec"]).items():
                comp[key] += value * replicas
        total: dict[str, float] = defaultdict(float)
        for name, comp in sorted(per_component.items()):
            rows.append({"values": scenario.name, "component": name, **comp})
            for key, value in comp.items():
                total[key] += value
        rows.append({"values": scenario.name, "component": "TOTAL", **total})
    return rows

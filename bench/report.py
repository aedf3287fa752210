"""The targets the benchmark checks (not tests: timings vary by machine) and the printed table."""

from __future__ import annotations

TEMPLATE_TARGET_S = 0.10
DAG_PARSE_TARGET_S = 0.010
OFFLINE_SUITE_TARGET_S = 180
DEV_CPU_TARGET = 2.0
DEV_MEMORY_TARGET_GIB = 4.0
NODE_WARM_START_TARGET_S = 30
DEV_INSTALL_TARGET_S = 180
SEED_RUN_TARGET_S = 90


def targets(results: dict) -> list[dict]:
    out = []

    def add(name: str, value: float | None, limit: float, unit: str) -> None:
        if value is not None:
            out.append({"target": name, "value": round(value, 4), "limit": limit, "unit": unit, "met": value < limit})

    for row in results.get("helm_template", []):
        if row["scenario"] == "dev":
            add(f"helm{row['helm']} template values/dev.yaml, median", row["median"], TEMPLATE_TARGET_S, "s")
    for row in results.get("dag_parse", []):
        if not row["file"].startswith("("):
            add(f"parse {row['file']}, warm median", row["median"], DAG_PARSE_TARGET_S, "s")
    for row in results.get("suites", []):
        if row["suite"] == "offline" and "median" in row:
            add("offline suite, warm median", row["median"], OFFLINE_SUITE_TARGET_S, "s")
    for row in results.get("cluster", []):
        if row["measure"].startswith("cluster-up, warm (control plane + real node") and "median" in row:
            add("real node warm start to Ready, median", row["median"], NODE_WARM_START_TARGET_S, "s")
    for row in results.get("airflow", []):
        if row["measure"].startswith("helm install values/dev.yaml") and "median" in row:
            add("dev install to Available on the real node", row["median"], DEV_INSTALL_TARGET_S, "s")
        if row["measure"].startswith("seed DAG: trigger") and "median" in row:
            add("seed DAG trigger -> success, median", row["median"], SEED_RUN_TARGET_S, "s")
    for row in results.get("footprint", []):
        if row["values"] == "dev" and row["component"] == "TOTAL":
            add("dev requests CPU", row["requests_cpu"], DEV_CPU_TARGET, "cores")
            add("dev requests memory", row["requests_memory_gib"], DEV_MEMORY_TARGET_GIB, "GiB")
    return out


def table(rows: list[dict], columns: list[str], title: str) -> None:
    if not rows:
        return
    print(f"\n{title}")
    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if value < 10 else f"{value:.1f}"
    return str(value)


def print_report(results: dict) -> None:
    timing = ["median", "p25", "p75", "min", "max", "n"]
    table(results.get("helm_template", []), ["scenario", "helm", *timing], "helm template (seconds)")
    table(results.get("dag_parse", []), ["file", *timing], "DAG parse in DagBag, warm (seconds)")
    table(results.get("footprint", []), ["values", "component", "pods", "requests_cpu", "requests_memory_gib",
                                         "limits_cpu", "limits_memory_gib"], "footprint (cores, GiB)")
    table(results.get("suites", []), ["suite", *timing, "skipped"], "test suites (seconds)")
    table(results.get("suite_runs", []), ["run", "module", "tests", "seconds", "note"],
          "the last whole make test, warm and cold: seconds per e2e module (set-up + tests + tear-down)")
    table(results.get("cluster", []), ["measure", *timing, "note"], "cluster (seconds)")
    table(results.get("images", []), ["measure", *timing, "mib", "note"], "images (seconds; sizes in MiB)")
    airflow = results.get("airflow", [])
    table([r for r in airflow if "peak_memory_mib" not in r], ["measure", *timing, "note"], "Airflow on the real node (seconds)")
    table([r for r in airflow if "peak_memory_mib" in r], ["measure", "peak_memory_mib", "request_memory_mib",
          "limit_memory_mib", "peak_cpu", "request_cpu", "limit_cpu"], "Airflow components: measured peak vs values/dev.yaml")
    load = results.get("load", [])
    table([r for r in load if "peak_memory_mib" not in r], ["measure", "value", "median", "p95", "min", "max", "n", "note"],
          "load: one run mapping a pod task over many items (seconds)")  # fmt: skip
    table([r for r in load if "peak_memory_mib" in r], ["measure", "peak_memory_mib", "peak_cpu"], "load: peak use")
    table(results.get("faults", []), ["fault", "done", "happened", "lost"], "faults: what was done, what happened, what was lost")
    prod = results.get("prod", [])
    table([r for r in prod if "peak_memory_mib" not in r], ["measure", "value", "note"],
          "values/prod.yaml: git push to DAG and run (seconds), NetworkPolicy flows")  # fmt: skip
    table([r for r in prod if "peak_memory_mib" in r], ["measure", "peak_memory_mib", "peak_cpu", "note"],
          "values/prod.yaml: peak use during a 50-task run vs requests and limits")  # fmt: skip
    table(results.get("kind", []), ["measure", "value", "note"], "kind from the node image built here (seconds)")
    table([{**t, "met": "yes" if t["met"] else "NO"} for t in results.get("targets", [])],
          ["target", "value", "limit", "unit", "met"], "targets")

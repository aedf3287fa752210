"""metrics.*: every Airflow process's StatsD metrics to the release's statsd-exporter, for Prometheus.

Rendered: the `[metrics]` options every Airflow pod reads (worker pods included), the exporter pod
(restricted, no token), its Service with the scrape annotations, the NetworkPolicy (StatsD from the
release's pods, scrapes from the peers named), the ServiceMonitor and PrometheusRule. Then the real
parts, on this host: Airflow's own metric code, configured from the rendered airflow.cfg, sends what
the task runner and the scheduler send to the real statsd-exporter running the chart's mapping file,
and the series come out labelled; promtool checks the alert rules and unit-tests each alert (it fires
on the series that should fire it, and not on healthy ones); every dashboard panel's PromQL parses.
The running release, a real Prometheus and an alert firing: tests/e2e/test_prod_metrics.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import yaml

from tests.lib.dag_bundle.offline_airflow import prepare_airflow_env
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import (
    airflow_cfg,
    containers,
    pod_annotations,
    pod_spec,
    volumes,
    worker_pod_template,
)
from tests.lib.render.dashboard_promql import as_promql, metric_names, panel_exprs
from tests.lib.render.helm_template import NAMESPACE, render
from tests.lib.test_servers import metrics_tools

SERVICE = "airflow-statsd"
# Airflow's processes send these, tagged, as in its own code (the task runner in a worker pod, the
# scheduler, its KubernetesExecutor): the exporter must turn each into the labelled series after it.
SEND = textwrap.dedent("""
    from airflow.sdk._shared.observability.metrics import stats as task_stats
    from airflow.sdk.configuration import conf as task_conf
    from airflow.sdk.observability.metrics import stats_utils as task_stats_utils
    from airflow._shared.observability.metrics import stats
    from airflow.configuration import conf
    from airflow.observability.metrics import stats_utils

    # airflow/sdk/execution_time/task_runner.py, in the worker pod
    task_stats.initialize(factory=task_stats_utils.get_stats_factory(),
                          export_legacy_names=task_conf.getboolean("metrics", "legacy_names_on"))
    tags = {"dag_id": "etl", "task_id": "load", "run_id": "manual__1"}
    task_stats.incr("ti.start", tags=tags)
    task_stats.incr("ti.finish", tags={**tags, "state": "failed"})
    task_stats.timing("task.duration", 2500, tags=tags)
    # airflow/jobs/scheduler_job_runner.py and the executor, in the scheduler
    stats.initialize(factory=stats_utils.get_stats_factory(),
                     export_legacy_names=conf.getboolean("metrics", "legacy_names_on"))
    stats.incr("scheduler_heartbeat", 1, 1)
    stats.gauge("executor.open_slots", value=6, tags={"status": "open", "executor_class_name": "KubernetesExecutor"})
    stats.incr("kubernetes_executor.pod_creation_status", tags={"status": "403"})
    stats.timing("dagrun.duration.failed", 61000, tags={"dag_id": "etl"})
    # airflow/models/dagrun.py sends both, whatever legacy_names_on says
    stats.timing("dagrun.etl.first_task_scheduling_delay", 3000, tags={"dag_id": "etl"})
    stats.timing("dagrun.first_task_scheduling_delay", 3000, tags={"dag_id": "etl"})
    stats.gauge("dag_processing.last_num_of_db_queries.etl.py", 7)
""")
EXPECTED = {
    'airflow_ti_start{dag_id="etl",task_id="load"}': 1,
    'airflow_ti_finish{dag_id="etl",state="failed",task_id="load"}': 1,
    'airflow_task_duration_sum{dag_id="etl",task_id="load"}': 2.5,  # ms in StatsD, seconds here
    'airflow_task_duration_bucket{dag_id="etl",task_id="load",le="5"}': 1,
    'airflow_scheduler_heartbeat': 1,
    'airflow_executor_open_slots{executor_class_name="KubernetesExecutor",status="open"}': 6,
    'airflow_kubernetes_executor_pod_creation_status{status="403"}': 1,
    'airflow_dagrun_duration_count{dag_id="etl",state="failed"}': 1,
    'airflow_dagrun_duration_bucket{dag_id="etl",state="failed",le="120"}': 1,
    'airflow_dag_processing_last_num_of_db_queries{dag_file="etl.py"}': 7,
    'airflow_dagrun_first_task_scheduling_delay_count{dag_id="etl"}': 1,
}


def statsd_objects(rendered) -> list[str]:
    return sorted(f"{o['kind']}/{o['metadata']['name']}" for o in rendered.objects
                  if o["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "statsd")  # fmt: skip


def mappings(scenario) -> str:
    return render(scenario).get("ConfigMap", "airflow-statsd-mappings")["data"]["mappings.yaml"]


def test_metrics_are_off_by_default() -> None:
    rendered = render(scenarios.DEFAULT)
    assert statsd_objects(rendered) == []
    assert not airflow_cfg(rendered).has_section("metrics")


def test_prod_sends_every_components_metrics_to_the_exporter_service() -> None:
    rendered = render(scenarios.PROD)
    metrics = airflow_cfg(rendered)["metrics"]
    service = rendered.get("Service", SERVICE)
    udp = {p["name"]: p for p in service["spec"]["ports"]}["statsd"]
    assert (metrics["statsd_on"], metrics["statsd_host"], int(metrics["statsd_port"]), udp["protocol"]) == \
        ("True", f"{SERVICE}.{NAMESPACE}", udp["port"], "UDP")  # fmt: skip
    # Tags as labels, not inside names (which legacy names would also send, doubling every series).
    assert (metrics["statsd_influxdb_enabled"], metrics["legacy_names_on"], metrics["statsd_prefix"]) == ("True", "False", "airflow")
    # Worker pods read the same airflow.cfg: the task runner sends each task's metrics from there.
    config_map = {v["configMap"]["name"] for v in worker_pod_template(rendered)["spec"]["volumes"] if "configMap" in v}
    assert "airflow-config" in config_map


def test_the_exporter_pod_is_restricted_and_holds_no_token() -> None:
    rendered = render(scenarios.PROD)
    deployment = rendered.get("Deployment", SERVICE)
    spec, exporter = pod_spec(deployment), containers(deployment)["statsd-exporter"]
    assert spec["automountServiceAccountToken"] is False and spec["securityContext"]["runAsNonRoot"] is True
    assert exporter["securityContext"]["readOnlyRootFilesystem"] is True
    assert exporter["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert set(exporter["resources"]) == {"requests", "limits"}
    # It reads the rendered mappings, and rolls when they change.
    mount = {m["name"]: m["mountPath"] for m in exporter["volumeMounts"]}["mappings"]
    assert f"--statsd.mapping-config={mount}/mappings.yaml" in exporter["args"]
    assert volumes(deployment)["mappings"]["configMap"]["name"] == "airflow-statsd-mappings"
    extra = scenarios.Scenario.of("metrics-extra-mapping", {"metrics": {"enabled": True, "statsdExporter": {
        "extraMappings": [{"match": "airflow.my_team.*", "name": "my_team_${1}"}]}}})
    changed = render(extra).get("Deployment", SERVICE)
    assert pod_annotations(changed)["checksum/statsd-mappings"] != pod_annotations(deployment)["checksum/statsd-mappings"]
    # The user's rule first: the exporter uses the first rule that matches.
    assert yaml.safe_load(mappings(extra))["mappings"][0]["match"] == "airflow.my_team.*"


def test_the_service_carries_the_scrape_annotations_and_selects_the_exporter() -> None:
    rendered = render(scenarios.PROD)
    service = rendered.get("Service", SERVICE)
    annotations = service["metadata"]["annotations"]
    metrics_port = {p["name"]: p for p in service["spec"]["ports"]}["metrics"]
    assert (annotations["prometheus.io/scrape"], annotations["prometheus.io/port"], annotations["prometheus.io/path"]) == \
        ("true", str(metrics_port["port"]), "/metrics")  # fmt: skip
    pod_labels = rendered.get("Deployment", SERVICE)["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()


def test_the_network_policy_takes_statsd_from_the_release_pods_and_scrapes_from_the_peers_named() -> None:
    rendered = render(scenarios.PROD)
    policy = rendered.get("NetworkPolicy", SERVICE)
    by_port = {rule["ports"][0]["port"]: rule for rule in policy["spec"]["ingress"]}
    assert set(by_port) == {"statsd", "metrics"}
    senders = by_port["statsd"]["from"][0]["podSelector"]["matchLabels"]
    # Every pod that runs Airflow sends: the worker pods (the task runner) and each component.
    worker_labels = worker_pod_template(rendered)["metadata"]["labels"]
    assert senders.items() <= worker_labels.items()
    for component in ("scheduler", "dag-processor", "triggerer", "api-server"):
        labels = rendered.get("Deployment", f"airflow-{component}")["spec"]["template"]["metadata"]["labels"]
        assert senders.items() <= labels.items(), component
    assert by_port["statsd"]["ports"][0]["protocol"] == "UDP"
    prod_values = yaml.safe_load(scenarios.PROD.files[0].read_text())
    assert by_port["metrics"]["from"] == prod_values["networkPolicies"]["metricsScrapeFrom"]


def test_the_service_monitor_scrapes_the_metrics_port_of_the_service() -> None:
    rendered = render(scenarios.METRICS_OPERATOR)
    monitor = rendered.get("ServiceMonitor", SERVICE)
    service = rendered.get("Service", SERVICE)
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == [NAMESPACE]
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]
    assert "metrics" in {p["name"] for p in service["spec"]["ports"]}
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rendered.get("PrometheusRule", "airflow-alerts")["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert render(scenarios.PROD).maybe("ServiceMonitor", SERVICE) is None


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    series = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            series[name] = float(value)
    return series


def test_airflows_own_metric_calls_come_out_of_the_exporter_as_labelled_series(tmp_path: Path) -> None:
    (tmp_path / "mappings.yaml").write_text(mappings(scenarios.PROD))
    cfg = tmp_path / "airflow.cfg"
    cfg.write_text(render(scenarios.PROD).get("ConfigMap", "airflow-config")["data"]["airflow.cfg"])
    web, udp = free_port(), free_port(socket.SOCK_DGRAM)
    exporter = subprocess.Popen([str(metrics_tools.statsd_exporter()), f"--statsd.mapping-config={tmp_path / 'mappings.yaml'}",
                                 f"--web.listen-address=127.0.0.1:{web}", f"--statsd.listen-udp=127.0.0.1:{udp}",
                                 "--statsd.listen-tcp="], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                scrape(web)
                break
            except OSError:
                assert exporter.poll() is None and time.monotonic() < deadline, exporter.stdout.read() if exporter.poll() is not None else "exporter did not listen"
                time.sleep(0.2)
        prepare_airflow_env()
        # The rendered airflow.cfg as every pod reads it; only where the exporter is differs here.
        environ = {**os.environ, "AIRFLOW_CONFIG": str(cfg), "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
                   "AIRFLOW__METRICS__STATSD_PORT": str(udp)}  # fmt: skip
        sent = subprocess.run([sys.executable, "-c", SEND], env=environ, capture_output=True, text=True, timeout=120)
        assert sent.returncode == 0, sent.stderr[-3000:]
        deadline = time.monotonic() + 10
        while not EXPECTED.keys() <= (series := scrape(web)).keys() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        exporter.terminate()
        exporter.wait(timeout=10)
    airflow_series = {k: v for k, v in series.items() if k.startswith("airflow_")}
    assert {k: airflow_series.get(k) for k in EXPECTED} == EXPECTED, sorted(airflow_series)
    # run_id is one of Airflow's default statsd_disabled_tags: a label per run would grow without end.
    assert not any("run_id" in k for k in airflow_series), [k for k in airflow_series if "run_id" in k]
    # No name carries a value that belongs in a label (what legacy names would send).
    assert not any("etl" in k.split("{")[0] for k in airflow_series), sorted(airflow_series)


def rules(tmp_path: Path) -> Path:
    spec = render(scenarios.METRICS_OPERATOR).get("PrometheusRule", "airflow-alerts")["spec"]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(metrics_tools.promtool()), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_the_alert_rules_pass_promtool(tmp_path: Path) -> None:
    checked = promtool("check", "rules", rules(tmp_path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 5 rules found" in checked.stdout, checked.stdout


SELECTOR = f'namespace="{NAMESPACE}", service="{SERVICE}"'


def alert(name: str, eval_time: str, fired: list[dict] | None = None) -> dict:
    return {"eval_time": eval_time, "alertname": name, "exp_alerts": fired or []}


# Each alert under promtool's clock (1 sample a minute): series that must fire it in time, and
# healthy ones (or another release's) that must not.
ALERT_TESTS = [
    {"interval": "1m", "input_series": [
        {"series": f"airflow_scheduler_heartbeat{{{SELECTOR}}}", "values": "0+12x5 60x10"},  # stops at 5 min
    ], "alert_rule_test": [
        alert("AirflowSchedulerHeartbeatMissing", "4m"),
        alert("AirflowSchedulerHeartbeatMissing", "11m", [{"exp_labels": {"severity": "critical"}, "exp_annotations": {
            "summary": f"Airflow's scheduler in {NAMESPACE} has sent no heartbeat for 2m",
            "description": f"No task is scheduled. Check the scheduler pods (kubectl -n {NAMESPACE} get pods -l "
                           "app.kubernetes.io/component=scheduler) and their logs."}}]),
    ]},
    {"interval": "1m", "input_series": [
        {"series": f'airflow_dag_processing_import_errors{{{SELECTOR}}}', "values": "0x3 2x10"},
        {"series": 'airflow_dag_processing_import_errors{namespace="other", service="other-statsd"}', "values": "5x13"},
        {"series": f'airflow_executor_open_slots{{{SELECTOR}}}', "values": "6x13"},
    ], "alert_rule_test": [
        alert("AirflowDagImportErrors", "6m"),
        alert("AirflowDagImportErrors", "10m", [{"exp_labels": {"severity": "warning"}, "exp_annotations": {
            "summary": f"2 DAG file(s) fail to import in {NAMESPACE}",
            "description": "Their DAGs do not run. The UI's DAG import errors, or GET /api/v2/importErrors, say which files and why."}}]),
        alert("AirflowExecutorNoOpenSlots", "13m"),
    ]},
    {"interval": "1m", "input_series": [
        {"series": f'airflow_executor_open_slots{{{SELECTOR}}}', "values": "6 0x20"},
        {"series": f'airflow_kubernetes_executor_pod_creation_status{{{SELECTOR}, status="200"}}', "values": "0+1x20"},
        {"series": f'airflow_kubernetes_executor_pod_creation_status{{{SELECTOR}, status="403"}}', "values": "0x8 1+1x12"},
    ], "alert_rule_test": [
        alert("AirflowExecutorNoOpenSlots", "9m"),
        alert("AirflowExecutorNoOpenSlots", "12m", [{"exp_labels": {"severity": "warning"}, "exp_annotations": {
            "summary": f"Airflow's executor in {NAMESPACE} has had no open slot for 10m",
            "description": "Tasks queue instead of starting. Raise [core] parallelism (config.core.parallelism) if the "
                           "cluster has room, or look for tasks that do not end."}}]),
        alert("AirflowWorkerPodCreationFailing", "8m"),
        alert("AirflowWorkerPodCreationFailing", "16m", [{"exp_labels": {"severity": "critical"}, "exp_annotations": {
            "summary": f"The KubernetesExecutor in {NAMESPACE} fails to create worker pods",
            "description": f'Tasks cannot start. The scheduler\'s log names the API\'s answer (kubectl -n {NAMESPACE} logs '
                           'deploy/airflow-scheduler | grep -i "creating pod").'}}]),
    ]},
    {"interval": "1m", "input_series": [
        {"series": f'airflow_ti_finish{{{SELECTOR}, dag_id="etl", task_id="load", state="failed"}}', "values": "0+1x40"},
        {"series": f'airflow_ti_finish{{{SELECTOR}, dag_id="etl", task_id="load", state="success"}}', "values": "0+1x40"},
        {"series": f'airflow_ti_finish{{{SELECTOR}, dag_id="report", task_id="send", state="success"}}', "values": "0+1x40"},
        {"series": f'airflow_ti_finish{{{SELECTOR}, dag_id="report", task_id="send", state="failed"}}', "values": "0x40"},
        {"series": f'airflow_ti_finish{{{SELECTOR}, dag_id="flaky", task_id="t", state="failed"}}', "values": "0+3x40"},
        {"series": f'airflow_ti_finish{{{SELECTOR}, dag_id="flaky", task_id="t", state="success"}}', "values": "0+1x40"},
    ], "alert_rule_test": [
        alert("AirflowTaskFailureRateHigh", "10m"),  # 3 of 4 failed, but not yet for 15 minutes
        # etl: 1 of 2 failed, not more than half; report: none; flaky: 3 of 4.
        alert("AirflowTaskFailureRateHigh", "30m", [{"exp_labels": {"severity": "warning", "dag_id": "flaky"}, "exp_annotations": {
            "summary": "More than 50% of DAG flaky's tasks failed in the last 30 minutes",
            "description": "Look at the DAG's failed task instances and their logs in the UI."}}]),
    ]},
]


def test_each_alert_fires_on_the_series_that_should_fire_it_and_not_on_healthy_ones(tmp_path: Path) -> None:
    tests = tmp_path / "alerts_test.yaml"
    rules_file = rules(tmp_path)
    tests.write_text(yaml.safe_dump({"rule_files": [str(rules_file)], "evaluation_interval": "1m", "tests": ALERT_TESTS}))
    tested = promtool("test", "rules", tests)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    fired = {t["alertname"] for case in ALERT_TESTS for t in case["alert_rule_test"] if t["exp_alerts"]}
    names = {r["alert"] for g in yaml.safe_load(rules_file.read_text())["groups"] for r in g["rules"]}
    assert fired == names, f"alerts without a test that fires them: {sorted(names - fired)}"


def test_every_dashboard_panel_has_promql_that_parses(tmp_path: Path) -> None:
    exprs = panel_exprs()
    assert len(exprs) >= 12, sorted(exprs)
    # promtool parses each as a recording rule's expression, as Prometheus would the query.
    rules_file = tmp_path / "panels.yaml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
        {"record": f"panel_{i}", "expr": as_promql(e, NAMESPACE)} for i, e in enumerate(exprs.values())]}]}))
    checked = promtool("check", "rules", rules_file)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert all(metric_names(e) for e in exprs.values()), {t: e for t, e in exprs.items() if not metric_names(e)}
    # Every panel is about one release: its namespace variable.
    assert all('namespace="$namespace"' in e for e in exprs.values()), [t for t, e in exprs.items() if "$namespace" not in e]

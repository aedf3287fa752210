"""Metrics (values/prod.yaml's metrics.enabled) in a real Prometheus: Airflow's health and every task's
outcome, read back with PromQL as an operator reads them, the alert rules loaded and one firing.

Prometheus (Debian's 2.42, docker/prometheus) runs in the `monitoring` namespace, the one prod.yaml's
networkPolicies.metricsScrapeFrom names, and finds the exporter by the Service's prometheus.io
annotations. It evaluates the chart's PrometheusRule spec, rendered from the install's values with the
import-error alert's `for` shortened. After a seed run, a failing run and a broken DAG file pushed to
the DAG repository: scheduler heartbeats, executor slots, `ti_finish` by dag_id, task_id and state
(counted exactly: nothing lost when a worker pod exits), worker pod creations, import errors and
their alert firing; every dashboard panel answers and reads only metrics Prometheus holds. The
ServiceMonitor and PrometheusRule are refused by the chart where the API server lacks the Prometheus
Operator's API, then accepted by the API server against the operator's own CRDs (from its Go module).

Figures (the metric delay from a task's end to Prometheus, the exporter's peak CPU and memory) go to
test-artifacts/metrics.json, which `make bench` reports. Shares the https prod install.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import pytest
import yaml
from airflow_client.client.api.dag_run_api import DagRunApi

from tests.lib.cluster.reachability import Prober
from tests.lib.installs.prod_install import ProdInstall
from tests.lib.live_airflow.rest_api import AirflowApi
from tests.lib.paths import ARTIFACTS
from tests.lib.render.dashboard_promql import as_promql, metric_names, panel_exprs
from tests.lib.render.helm_template import parse_manifests
from tests.lib.test_servers import metrics_tools
from tests.lib.test_servers.prometheus_server import INTERVAL_S, Prometheus

PROD_INSTALL = ("https", "gitSync")
FIGURES_FILE = "metrics.json"
MONITORING = "monitoring"  # values/prod.yaml networkPolicies.metricsScrapeFrom
EXPORTER = "airflow-statsd"
SEED_DAG, SEED_TASK = "kubernetes-dag", "kubernetespodoperator"
PARAMS_DAG, PARAMS_TASK = "kubernetes-pod-params", "process"
BROKEN_FILE = "dags/broken_for_metrics.py"
BROKEN = "from airflow.sdk import DAG\n\nwith DAG(dag_id='broken-for-metrics' schedule=None):\n    pass\n"
IMPORT_ERRORS_FOR = "10s"  # the alert's `for` here; the chart's default is 5m
LOAD_DAG = "kubernetes-pod-fanout"
LOAD_ITEMS = int(os.environ.get("METRICS_LOAD_ITEMS", "8"))  # `make bench` draws 50
LOAD_SERIES = ARTIFACTS / "metrics-load.json"


def release_rules(prod: ProdInstall) -> dict[str, Any]:
    """The PrometheusRule's spec as the chart renders it for this install, as the operator would hand
    it to Prometheus: a rules file."""
    rendered = prod.release.template("--api-versions", "monitoring.coreos.com/v1", "--set", "metrics.prometheusRule.enabled=true",
                                     "--set", f"metrics.prometheusRule.for.dagImportErrors={IMPORT_ERRORS_FOR}",
                                     "--show-only", "templates/metrics/prometheusrule.yaml")  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr
    return yaml.safe_load(rendered.stdout)["spec"]


@dataclass
class Monitoring:
    prod: ProdInstall
    api: AirflowApi
    prometheus: Prometheus

    def selector(self, **labels: str) -> str:
        matchers = {"namespace": self.prod.release.namespace, "service": EXPORTER, **labels}
        return "{" + ", ".join(f'{k}="{v}"' for k, v in matchers.items()) + "}"

    def finished(self, dag_id: str, task_id: str, state: str) -> float:
        """How many of the task's runs Prometheus has counted as ending in `state` (0 if none yet)."""
        value = self.prometheus.value(f"sum(airflow_ti_finish{self.selector(dag_id=dag_id, task_id=task_id, state=state)})")
        return value or 0.0


@pytest.fixture(scope="module")
def monitoring(prod: ProdInstall, api: AirflowApi) -> Iterator[Monitoring]:
    """Prometheus in `monitoring`, scraping the release, with the chart's alert rules; once it has
    scraped the exporter at least once."""
    target = prod.release.target
    target.kubectl("delete", "namespace", MONITORING, "--ignore-not-found", "--wait=true", "--timeout=120s", check=False)
    target.create_namespace(MONITORING)
    prometheus = Prometheus(target, MONITORING, prod.release.namespace, release_rules(prod))
    try:
        prometheus.deploy()
        watched = Monitoring(prod, api, prometheus)
        prometheus.wait_for(f"up{watched.selector()}", lambda v: v == 1, timeout=120)
        yield watched
    finally:
        prometheus.remove_grant()
        target.kubectl("delete", "namespace", MONITORING, "--wait=false", "--ignore-not-found", check=False)


@dataclass(frozen=True)
class SeedCounts:
    """The seed task's successes as the REST API lists them, and Prometheus' counters of them, read at
    one moment. Prometheus' counters start again at zero whenever the exporter restarts (normal for a
    counter): only differences between two of these readings, taken by this module, are compared."""

    listed: int
    finished: float
    durations: float
    pods_created: float


def seed_counts(monitoring: Monitoring) -> SeedCounts:
    """A reading in which Prometheus holds every success the REST API lists: the REST count is taken
    before and after Prometheus is read, two scrapes apart, until it did not change in between."""
    sel = monitoring.selector(dag_id=SEED_DAG, task_id=SEED_TASK)
    deadline = time.monotonic() + 300
    while True:
        listed = rest_seed_successes(monitoring.api)
        time.sleep(2 * INTERVAL_S + 1)  # a success's count reaches Prometheus at its next scrape
        prometheus = monitoring.prometheus
        finished = prometheus.value(f"sum(airflow_ti_finish{monitoring.selector(dag_id=SEED_DAG, task_id=SEED_TASK, state='success')})")
        durations = prometheus.value(f"sum(airflow_task_duration_count{sel})")
        created = prometheus.value(f"sum(airflow_kubernetes_executor_pod_creation_status{monitoring.selector(status='200')})")
        if rest_seed_successes(monitoring.api) == listed:
            return SeedCounts(listed, finished or 0.0, durations or 0.0, created or 0.0)
        assert time.monotonic() < deadline, "the seed DAG's successes kept changing for 300 s"


@pytest.fixture(scope="module")
def runs(monitoring: Monitoring, figures: dict[str, Any]) -> dict[str, Any]:
    """A seed run (succeeds) and a failing run (exit code 3, no retry), both finished and counted;
    with the counts read before them."""
    api = monitoring.api
    before = {"seed": seed_counts(monitoring), "failing": monitoring.finished(PARAMS_DAG, PARAMS_TASK, "failed")}
    runs = {"seed": api.trigger(SEED_DAG), "failing": api.trigger(PARAMS_DAG, {"exit_code": 3})}
    states = {"seed": api.wait_for_run(SEED_DAG, runs["seed"]), "failing": api.wait_for_run(PARAMS_DAG, runs["failing"])}
    assert states == {"seed": "success", "failing": "failed"}, states
    # From the seed task's end (its worker pod then exits) to the count in Prometheus.
    ended = api.task_instances(SEED_DAG, runs["seed"])[SEED_TASK].end_date
    seen = monitoring.prometheus.wait_for(
        f"sum(airflow_ti_finish{monitoring.selector(dag_id=SEED_DAG, task_id=SEED_TASK, state='success')})",
        lambda v: (v or 0) > before["seed"].finished, timeout=120, poll=0.25)  # fmt: skip
    figures["metric_delay_s"] = round(seen - ended.astimezone(UTC).timestamp(), 2)
    monitoring.prometheus.wait_for(
        f"sum(airflow_ti_finish{monitoring.selector(dag_id=PARAMS_DAG, task_id=PARAMS_TASK, state='failed')})",
        lambda v: (v or 0) > before["failing"], timeout=120)  # fmt: skip
    return {**runs, "before_failing": before["failing"], "before_seed": before["seed"]}


def test_prometheus_finds_the_exporter_by_its_annotations_and_the_network_policy_lets_it_scrape(monitoring: Monitoring) -> None:
    targets = [t for t in monitoring.prometheus.targets() if t["labels"].get("service") == EXPORTER]
    assert [(t["health"], t["labels"]["namespace"]) for t in targets] == [("up", monitoring.prod.release.namespace)], targets
    assert targets[0]["scrapeUrl"].endswith(":9102/metrics"), targets[0]["scrapeUrl"]


def test_only_the_namespace_named_may_scrape(monitoring: Monitoring) -> None:
    """values/prod.yaml's metricsScrapeFrom names `monitoring`: a pod there connects to the exporter's
    metrics port, a pod of any other namespace is refused."""
    target, namespace = monitoring.prod.release.target, monitoring.prod.release.namespace
    pod_ip = target.kubectl_json("get", "pods", "-n", namespace, "-l", "app.kubernetes.io/component=statsd")["items"][0]["status"]["podIP"]
    other = f"{namespace}-git"  # the git server's namespace: any namespace but monitoring
    probers = [Prober(target, MONITORING).start(), Prober(target, other).start()]
    try:
        assert [p.connects(pod_ip, 9102) for p in probers] == [True, False]
    finally:
        for prober in probers:
            prober.stop()


def test_the_scheduler_executor_and_dag_processor_report(monitoring: Monitoring) -> None:
    prometheus, sel = monitoring.prometheus, monitoring.selector()
    prometheus.wait_for(f"sum(rate(airflow_scheduler_heartbeat{sel}[1m]))", lambda v: (v or 0) > 0)
    # Each scheduler (values/prod.yaml runs two) reports its executor's slots.
    slots = {name: prometheus.query(f"airflow_executor_{name}{sel}") for name in ("open_slots", "queued_tasks", "running_tasks")}
    assert all(slots.values()), slots
    assert {r["metric"]["executor_class_name"] for r in slots["open_slots"]} == {"KubernetesExecutor"}
    prometheus.wait_for(f"max(airflow_dag_processing_total_parse_time{sel})", lambda v: (v or 0) > 0)
    prometheus.wait_for(f"sum(rate(airflow_triggerer_heartbeat{sel}[1m]))", lambda v: (v or 0) > 0)


def rest_seed_successes(api: AirflowApi) -> int:
    """Successful seed task instances over every run of the seed DAG, as the REST API lists them."""
    runs = DagRunApi(api.api).get_dag_runs(SEED_DAG, limit=100).dag_runs
    return sum(api.task_instances(SEED_DAG, r.dag_run_id)[SEED_TASK].state.value == "success" for r in runs)


def test_every_task_outcome_is_counted_with_its_dag_task_and_state(monitoring: Monitoring, runs: dict[str, Any]) -> None:
    """Sent from the worker pods, which are gone when Prometheus scrapes: each counted exactly once."""
    failing = monitoring.finished(PARAMS_DAG, PARAMS_TASK, "failed") - runs["before_failing"]
    assert failing == 1
    # The seed DAG also runs on its schedule (unpausing it started its latest daily run), and that run
    # may still be going, or waiting out a retry: every success the REST API lists from the reading
    # before the runs on is counted once by Prometheus, whenever they are read. A success reaches the
    # API first and Prometheus a scrape later, so read both until they agree.
    before: SeedCounts = runs["before_seed"]
    deadline = time.monotonic() + 120
    while True:
        now = seed_counts(monitoring)
        successes = now.listed - before.listed
        counted = (now.finished - before.finished, now.durations - before.durations)
        if successes >= 1 and counted == (successes, successes):
            break
        assert time.monotonic() < deadline, f"the REST API lists {successes} new seed successes; Prometheus counts {counted}"
    # Each of those tasks and the failing one had its worker pod created.
    assert now.pods_created - before.pods_created >= successes + 1, (before, now)


def test_a_broken_dag_file_is_counted_and_fires_its_alert(monitoring: Monitoring, figures: dict[str, Any]) -> None:
    prod, api, prometheus = monitoring.prod, monitoring.api, monitoring.prometheus
    prod.git.write(BROKEN_FILE, BROKEN)
    prod.git.commit_and_push("A DAG file with a syntax error")
    pushed = time.monotonic()
    try:
        deadline = time.monotonic() + 300
        while not any(e.filename.endswith("broken_for_metrics.py") for e in api.import_errors()):
            assert time.monotonic() < deadline, "the broken file's import error never listed by the REST API"
            time.sleep(3)
        # The dag-processor sends its import error count when a parsing round's queue has drained,
        # which can be before that round's results are in; the next round sends the count with them.
        # Rounds come every [dag_processor] min_file_process_interval (Airflow: 30 s; 600 s in these
        # tests, tests/e2e/values/test-timing.yaml) or on a new commit: an empty commit starts one.
        query = f"max(airflow_dag_processing_import_errors{monitoring.selector()})"
        for _round in range(4):
            try:
                prometheus.wait_for(query, lambda v: (v or 0) >= 1, timeout=45)
                break
            except AssertionError:
                prod.git.git("commit", "--quiet", "--allow-empty", "-m", "A new parsing round")
                prod.git.git("push", "--quiet", "origin", "HEAD:main")
        else:
            raise AssertionError(f"{query} never counted the broken file: {prometheus.value(query)}")
        deadline = time.monotonic() + 120
        while not (firing := [a for a in prometheus.alerts() if a["labels"]["alertname"] == "AirflowDagImportErrors" and a["state"] == "firing"]):
            assert time.monotonic() < deadline, prometheus.alerts()
            time.sleep(2)
        figures["import_error_alert_firing_after_push_s"] = round(time.monotonic() - pushed, 1)
        assert firing[0]["annotations"]["summary"].endswith(f"fail to import in {prod.release.namespace}"), firing
    finally:  # the install is shared: leave its DAG folder as it was
        (prod.git.workdir / "checkout" / BROKEN_FILE).unlink()
        prod.git.commit_and_push("Remove the broken DAG file")
        deadline = time.monotonic() + 300
        while any(e.filename.endswith("broken_for_metrics.py") for e in api.import_errors()) and time.monotonic() < deadline:
            time.sleep(3)


def test_the_alert_rules_load_and_evaluate(monitoring: Monitoring) -> None:
    rules = [r for g in monitoring.prometheus.rule_groups() for r in g["rules"]]
    assert sorted(r["name"] for r in rules) == sorted(
        r["alert"] for g in monitoring.prometheus.rules["groups"] for r in g["rules"])  # fmt: skip
    assert len(rules) == 5 and all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError")) for r in rules]
    # The scheduler heartbeats: its alert is quiet.
    assert not [a for a in monitoring.prometheus.alerts() if a["labels"]["alertname"] == "AirflowSchedulerHeartbeatMissing"]


def test_every_dashboard_panel_answers_and_reads_only_metrics_prometheus_holds(monitoring: Monitoring, runs: dict[str, Any],
                                                                                 figures: dict[str, Any]) -> None:  # fmt: skip
    held = monitoring.prometheus.metric_names()
    namespace = monitoring.prod.release.namespace
    empty = []
    for title, expr in panel_exprs().items():
        assert metric_names(expr) <= held, f"{title}: {sorted(metric_names(expr) - held)} not in Prometheus"
        if not monitoring.prometheus.query(as_promql(expr, namespace)):
            empty.append(title)
    # Counters' rates are zero but present, quantiles need observations: with the runs above, every panel draws.
    assert empty == [], empty
    figures["airflow_metrics_seen"] = sorted(n for n in held if n.startswith("airflow_"))


def test_the_exporter_peak_use_fits_its_requests_and_limits(monitoring: Monitoring, runs: dict[str, Any], figures: dict[str, Any]) -> None:
    sel = monitoring.selector()
    prometheus = monitoring.prometheus
    cpu = prometheus.value(f"max_over_time(rate(process_cpu_seconds_total{sel}[30s])[1h:5s])")
    memory = prometheus.value(f"max_over_time(process_resident_memory_bytes{sel}[1h])")
    assert cpu is not None and memory is not None
    figures["exporter_peak_cpu_cores"] = round(cpu, 4)
    figures["exporter_peak_memory_mib"] = round(memory / 2**20, 1)
    limits = monitoring.prod.release.kubectl_json("get", "deployment", EXPORTER)["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert memory < 0.5 * 128 * 2**20 and limits["memory"] == "128Mi", (memory, limits)


def test_service_monitor_and_rule_are_refused_without_the_operator_api_and_accepted_by_its_crds(prod: ProdInstall) -> None:
    release, target = prod.release, prod.release.target
    operator = ("--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.prometheusRule.enabled=true")
    refused = release.template("--validate", *operator)
    assert refused.returncode != 0 and "no monitoring.coreos.com/v1 API" in refused.stderr, refused.stderr[-2000:]
    crds = sorted(metrics_tools.operator_crds().glob("monitoring.coreos.com_*.yaml"))
    assert len(crds) == 2, crds
    for crd in crds:
        target.kubectl("apply", "--server-side", "-f", str(crd))
    try:
        target.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                       "crd/servicemonitors.monitoring.coreos.com", "crd/prometheusrules.monitoring.coreos.com")  # fmt: skip
        rendered = release.template("--validate", *operator, "--show-only", "templates/metrics/servicemonitor.yaml",
                                    "--show-only", "templates/metrics/prometheusrule.yaml")  # fmt: skip
        assert rendered.returncode == 0, rendered.stderr[-2000:]
        objects, _ = parse_manifests(rendered.stdout)
        assert sorted(o["kind"] for o in objects) == ["PrometheusRule", "ServiceMonitor"]
        # The API server checks each against the operator's schema (a dry run: nothing stays).
        for obj in objects:
            accepted = target.kubectl("apply", "--dry-run=server", "-n", release.namespace, "-f", "-", stdin=json.dumps(obj), check=False)
            assert accepted.returncode == 0, accepted.stderr
        # And the schema is really checked: an interval that is not a duration is refused.
        monitor = next(o for o in objects if o["kind"] == "ServiceMonitor")
        monitor["spec"]["endpoints"][0]["interval"] = "thirty seconds"
        wrong = target.kubectl("apply", "--dry-run=server", "-n", release.namespace, "-f", "-", stdin=json.dumps(monitor), check=False)
        assert wrong.returncode != 0 and "interval" in wrong.stderr, wrong.stderr
    finally:
        target.kubectl("delete", "--ignore-not-found", "--wait=true", "--timeout=120s",
                       "crd/servicemonitors.monitoring.coreos.com", "crd/prometheusrules.monitoring.coreos.com", check=False)  # fmt: skip


def test_a_fan_out_run_is_counted_task_by_task_and_drawn_over_time(monitoring: Monitoring) -> None:
    """Its tasks scheduled (waiting for a slot), queued, running and finished over time, as Prometheus recorded them (the
    schedulers' ti.* gauges, every 5 s here; the workers' ti.finish counts), into
    test-artifacts/metrics-load.json, which `make bench` draws."""
    api, prometheus = monitoring.api, monitoring.prometheus
    sel = monitoring.selector(dag_id=LOAD_DAG)
    before = prometheus.value(f"sum(airflow_ti_finish{sel})") or 0
    began = time.time()
    run_id = api.trigger(LOAD_DAG, {"items": LOAD_ITEMS})
    state = api.wait_for_run(LOAD_DAG, run_id, timeout=1800)
    tasks = len(api.task_instances(LOAD_DAG, run_id))
    prometheus.wait_for(f"sum(airflow_ti_finish{sel})", lambda v: (v or 0) - before >= tasks, timeout=120)
    time.sleep(2 * INTERVAL_S)  # the gauges' last values back at zero
    ended = time.time()
    queries = {"scheduled": f"sum(airflow_ti_scheduled{sel})", "queued": f"sum(airflow_ti_queued{sel})",
               "running": f"sum(airflow_ti_running{sel})",
               "finished": f"sum(airflow_ti_finish{sel}) - {before}"}  # fmt: skip
    series = {name: prometheus.range(q, began, ended, INTERVAL_S) for name, q in queries.items()}
    LOAD_SERIES.parent.mkdir(parents=True, exist_ok=True)
    LOAD_SERIES.write_text(json.dumps({
        "dag_id": LOAD_DAG, "items": LOAD_ITEMS, "tasks": tasks, "state": state, "step_s": INTERVAL_S,
        "series": {name: [[round(t - began, 1), v] for t, v in points] for name, points in series.items()},
    }, indent=1) + "\n")  # fmt: skip
    assert state == "success"
    # Every task counted once, each from its own short-lived worker pod.
    assert series["finished"] and series["finished"][-1][1] == tasks, series["finished"]
    assert max((v for _, v in series["running"]), default=0) >= 1, series["running"]

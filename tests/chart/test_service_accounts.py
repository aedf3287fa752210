"""ServiceAccounts: one per component, renameable and annotatable (cloud IAM), followed by pods and bindings."""

from __future__ import annotations

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import pod_spec, worker_pod_template
from tests.lib.render.helm_template import render

COMPONENTS = ["api-server", "cleanup", "dag-processor", "postgresql", "run-migrations", "scheduler", "triggerer", "worker"]



def release_accounts(rendered):
    """The ServiceAccounts that live with the release: not a Helm hook's own, were one to have any."""
    return [a for a in rendered.all("ServiceAccount") if "helm.sh/hook" not in (a["metadata"].get("annotations") or {})]

class TestServiceAccounts:
    def test_one_per_component_named_for_it(self):
        names = sorted(a["metadata"]["name"] for a in release_accounts(render(scenarios.DEFAULT)))
        assert names == [f"airflow-{c}" for c in COMPONENTS]

    def test_a_renamed_account_is_used_by_its_pods_and_bindings(self):
        rendered = render(scenarios.SERVICE_ACCOUNT_NAMES)
        worker = rendered.get("ServiceAccount", "etl-runner")
        assert worker["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/etl"}
        assert worker_pod_template(rendered)["spec"]["serviceAccountName"] == "etl-runner"
        launchers = [b for b in rendered.all("RoleBinding") if b["metadata"]["name"] == "airflow-airflow-pod-launcher"]
        assert len(launchers) == 1  # in `development`; none in the release namespace
        assert all(b["subjects"] == [{"kind": "ServiceAccount", "name": "etl-runner", "namespace": "airflow"}] for b in launchers)
        assert pod_spec(rendered.get("Deployment", "airflow-scheduler"))["serviceAccountName"] == "airflow-scheduler-sa"
        assert rendered.get("RoleBinding", "airflow-pod-manager")["subjects"][0]["name"] == "airflow-scheduler-sa"
        assert rendered.maybe("ServiceAccount", "airflow-worker") is None

    def test_no_annotations_unless_given(self):
        for account in release_accounts(render(scenarios.DEFAULT)):
            assert "annotations" not in account["metadata"], account["metadata"]["name"]

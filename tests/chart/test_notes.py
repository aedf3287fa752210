"""NOTES.txt tells the user how to reach the UI and get the login."""

from __future__ import annotations

from tests.lib.render import scenarios
from tests.lib.render.notes_txt import render_notes


class TestNotes:
    def test_port_forward_and_generated_password(self):
        notes = render_notes(scenarios.DEFAULT)
        assert "kubectl --namespace airflow port-forward service/airflow-api-server 8080:8080" in notes
        assert "user:     admin" in notes
        assert "get secret airflow-simple-auth-passwords" in notes
        assert "helm test airflow --namespace airflow" in notes
        assert "PersistentVolumeClaim" in notes  # the embedded database warning

    def test_sign_in_through_the_identity_provider_and_no_dev_warning_in_prod(self):
        notes = render_notes(scenarios.PROD)
        assert "through your identity provider (https://idp.example.com/realms/airflow)" in notes
        assert "airflow-admins → Admin; " in notes and "anyone else is refused" in notes
        assert "password" not in notes
        assert "embedded PostgreSQL" not in notes

    def test_fab_oidc_tells_scripts_how_to_get_a_token(self):
        notes = render_notes(scenarios.FAB_OIDC)
        assert 'POST /auth/token {"access_token":' in notes and "anyone else is refused" in notes

    def test_custom_auth_manager_named(self):
        notes = render_notes(scenarios.CUSTOM_AUTH)
        assert "FabAuthManager" in notes and "passwords" not in notes

    def test_ingress_url_instead_of_port_forward(self):
        notes = render_notes(scenarios.INGRESS)
        assert "https://airflow.example.com/" in notes and "port-forward" not in notes

    def test_metrics_endpoint_named_when_metrics_are_on(self):
        assert "Metrics:" not in render_notes(scenarios.DEFAULT)
        prod = render_notes(scenarios.PROD)
        assert "http://airflow-statsd.airflow:9102/metrics (the Service has the prometheus.io annotations)" in prod
        assert "through the ServiceMonitor airflow-statsd" in render_notes(scenarios.METRICS_OPERATOR)

    def test_task_pod_namespaces_named_when_missing_and_the_release_namespace_warned_of(self):
        assert "KubernetesPodOperator tasks have no namespace" in render_notes(scenarios.DEFAULT)
        for scenario in (scenarios.DEV, scenarios.PROD):
            notes = render_notes(scenario)
            assert "KubernetesPodOperator tasks have no namespace" not in notes and "WARNING" not in notes
        unsafe = render_notes(scenarios.UNSAFE_RELEASE_NAMESPACE)
        assert "WARNING: rbac.unsafeLaunchInReleaseNamespace is set" in unsafe and "exec into" in unsafe

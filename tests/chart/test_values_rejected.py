"""Wrong values are refused by `helm template` (Helm 3 and Helm 4) with an error naming the field.

The corpus is tests/chart/rejected-values/, one wrong values file per case (see tests/lib/render/rejected_values.py).
`schema-*` cases are caught by values.schema.json, `fail-*` cases by the chart's `fail` checks.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from tests.lib.render.helm_template import render_error
from tests.lib.render.rejected_values import CORPUS_DIR, RejectedCase, field_mentions, load_cases
from tests.lib.tools import HELM_MAJORS

CASES = load_cases()
MIN_CASES = 25  # issue 3: "at least 25 cases"


def test_corpus_is_large_enough_and_covers_both_mechanisms():
    assert len(CASES) >= MIN_CASES, f"{CORPUS_DIR} has {len(CASES)} cases; issue 3 asks for at least {MIN_CASES}"
    prefixes = {c.name.split("-", 1)[0] for c in CASES}
    assert prefixes == {"schema", "fail"}, f"case files are named schema-* or fail-*, found prefixes {prefixes}"


@pytest.mark.parametrize("helm_major", HELM_MAJORS, ids=lambda m: f"helm{m}")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_wrong_values_are_refused_naming_the_field(case: RejectedCase, helm_major: int):
    error = render_error(case.values, helm_major=helm_major)

    mentions = field_mentions(case.field, helm_major, by_schema=case.by_schema)
    assert any(m in error for m in mentions), (
        f"{case.path.name} ({case.why}): helm{helm_major} refused it, but its error does not name "
        f"`{case.field}` (looked for {mentions}):\n{error}"
    )
    # A user reads this message: a Go panic or a template stack trace is not a clear error.
    assert "panic:" not in error and "goroutine " not in error, error
    if not case.by_schema:
        # A `fail` check says what is wrong on one line: "Error: execution error at (...): <message>"
        # (helm may add its own "Use --debug flag ..." hint after it).
        error_lines = [line for line in error.splitlines() if line.startswith("Error:")]
        assert len(error_lines) == 1 and case.field in error_lines[0], (
            f"{case.path.name}: expected one 'Error:' line naming `{case.field}`:\n{error}")



def _airflow_sensitive_options() -> list[tuple[str, str]]:
    """The [section] keys Airflow's own config description marks `sensitive` (read, not imported: fast)."""
    spec = importlib.util.find_spec("airflow")
    assert spec and spec.submodule_search_locations, "apache-airflow is not installed in this environment"
    config_yml = Path(next(iter(spec.submodule_search_locations))) / "config_templates" / "config.yml"
    sections = yaml.safe_load(config_yml.read_text())
    return sorted((section, key) for section, body in sections.items()
                  for key, option in (body.get("options") or {}).items() if option.get("sensitive"))


# Sensitive options the chart still accepts in `config`, each with the reason. Everything else Airflow
# marks sensitive must be refused, so an Airflow upgrade that adds a secret option fails here first.
ACCEPTED_SENSITIVE = {
    # JSON settings Airflow masks as a precaution; they usually hold no credential (pool sizes, prefixes,
    # a role name). One that does goes in a Secret, passed as AIRFLOW__<SECTION>__<KEY> through extraEnv.
    ("core", "asset_manager_kwargs"), ("database", "sql_alchemy_engine_args"),
    ("logging", "remote_task_handler_kwargs"), ("secrets", "backend_kwargs"),
    ("workers", "secrets_backend_kwargs"),
    # A Sentry DSN is a client key Sentry designs to ship inside apps; extraEnv can still read it from a Secret.
    ("sentry", "sentry_dsn"),
}
REFUSED_SENSITIVE = [o for o in _airflow_sensitive_options() if o not in ACCEPTED_SENSITIVE]


def test_airflow_still_marks_the_accepted_options_sensitive():
    stale = ACCEPTED_SENSITIVE - set(_airflow_sensitive_options())
    assert not stale, f"Airflow no longer marks {sorted(stale)} sensitive: drop them from ACCEPTED_SENSITIVE"


@pytest.mark.parametrize("option", REFUSED_SENSITIVE, ids=lambda o: ".".join(o))
def test_options_airflow_marks_sensitive_are_refused_in_config(option: tuple[str, str]):
    section, key = option
    error = render_error({"config": {section: {key: "a-secret-value"}}}, helm_major=3)
    assert f"config.{section}.{key}" in error, f"config.{section}.{key} was refused for another reason:\n{error}"

"""tests/lib/conformance/label_selectors.py against the API server's rules for label selectors."""

from __future__ import annotations

import pytest

from tests.lib.conformance.label_selectors import selects

LABELS = {"app.kubernetes.io/instance": "airflow", "app.kubernetes.io/component": "scheduler"}


def test_a_service_selector_and_match_labels_need_every_pair():
    assert selects({"app.kubernetes.io/instance": "airflow"}, LABELS)
    assert selects({"matchLabels": {"app.kubernetes.io/instance": "airflow"}}, LABELS)
    assert not selects({"matchLabels": {"app.kubernetes.io/instance": "other"}}, LABELS)


def test_nothing_selects_nothing_and_an_empty_selector_selects_everything():
    assert not selects(None, LABELS)
    assert selects({}, LABELS)


@pytest.mark.parametrize("expression,expected", [
    ({"key": "app.kubernetes.io/component", "operator": "In", "values": ["scheduler", "api-server"]}, True),
    ({"key": "app.kubernetes.io/component", "operator": "In", "values": ["worker"]}, False),
    ({"key": "app.kubernetes.io/component", "operator": "NotIn", "values": ["worker"]}, True),
    ({"key": "missing", "operator": "NotIn", "values": ["x"]}, True),
    ({"key": "app.kubernetes.io/component", "operator": "Exists"}, True),
    ({"key": "missing", "operator": "DoesNotExist"}, True),
    ({"key": "missing", "operator": "Exists"}, False),
])  # fmt: skip
def test_match_expressions_with_match_labels(expression, expected):
    selector = {"matchLabels": {"app.kubernetes.io/instance": "airflow"}, "matchExpressions": [expression]}
    assert selects(selector, LABELS) is expected


def test_an_unknown_operator_is_an_error_not_a_guess():
    with pytest.raises(ValueError, match="Gt"):
        selects({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}, LABELS)

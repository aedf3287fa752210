"""Whether a Kubernetes label selector picks a set of labels, as the API server decides it: a Service's
plain `selector` map, or a LabelSelector with `matchLabels` and `matchExpressions`."""

from __future__ import annotations

from typing import Any

OPERATORS = {
    "In": lambda value, values: value is not None and value in values,
    "NotIn": lambda value, values: value is None or value not in values,
    "Exists": lambda value, _values: value is not None,
    "DoesNotExist": lambda value, _values: value is None,
}


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """None selects nothing; `{}` (a LabelSelector with no terms) selects everything."""
    if selector is None:
        return False
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        match: dict[str, str] = selector  # a Service's selector, or an empty LabelSelector
    else:
        match = selector.get("matchLabels") or {}
    if any(labels.get(key) != value for key, value in match.items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        operator = OPERATORS.get(expression["operator"])
        if operator is None:
            raise ValueError(f"unknown label selector operator {expression['operator']!r}")
        if not operator(labels.get(expression["key"]), expression.get("values") or []):
            return False
    return True

"""Kubernetes' own name rules (k8s.io/apimachinery/pkg/util/validation), for names found in specs.

An API server refuses an object whose name breaks these rules, so a spec referring to such a name
can never work: the seed DAG's `test_env` (underscore) is the example that motivated this module.
"""

from __future__ import annotations

import re

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile(rf"^{_LABEL}$")
_DNS1123_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
_ENV_VAR_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def dns1123_label_error(name: str) -> str | None:
    """Namespaces, container, volume and port names: at most 63 chars, lowercase alphanumerics and '-'."""
    if len(name) > 63:
        return f"{name!r} is longer than 63 characters"
    if not _DNS1123_LABEL.match(name):
        return f"{name!r} is not a DNS-1123 label (lowercase letters, digits and '-', alphanumeric at both ends)"
    return None


def dns1123_subdomain_error(name: str) -> str | None:
    """Most object names (Pod, Secret, ConfigMap): at most 253 chars, DNS-1123 labels joined by '.'."""
    if len(name) > 253:
        return f"{name!r} is longer than 253 characters"
    if not _DNS1123_SUBDOMAIN.match(name):
        return f"{name!r} is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.'; no '_')"
    return None


def env_var_name_error(name: str) -> str | None:
    if not _ENV_VAR_NAME.match(name):
        return f"{name!r} is not a valid environment variable name"
    return None


def label_key_error(key: str) -> str | None:
    """A label key: an optional DNS-1123 subdomain prefix and '/', then a qualified name of <= 63 chars."""
    prefix, _, name = key.rpartition("/")
    if prefix and dns1123_subdomain_error(prefix):
        return f"label key {key!r}: prefix {dns1123_subdomain_error(prefix)}"
    if len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return f"label key {key!r}: name part must be <= 63 alphanumerics, '-', '_' or '.', alphanumeric at both ends"
    return None


def label_value_error(value: str) -> str | None:
    if value and (len(value) > 63 or not _QUALIFIED_NAME.match(value)):
        return f"label value {value!r} must be empty or <= 63 alphanumerics, '-', '_' or '.', alphanumeric at both ends"
    return None

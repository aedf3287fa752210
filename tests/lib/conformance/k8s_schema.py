"""Strict validation of Kubernetes objects against the API's own JSON schemas, offline.

The schemas are the ones the `kubernetes-validate` package ships (generated from each Kubernetes
release's OpenAPI document; the "-strict" flavour forbids unknown fields, so a typo such as
`securityContex` fails instead of being silently dropped by the API server). We load them through
the package and cache one validator per (Kubernetes version, kind), so checking every object of every
scenario against six versions stays cheap.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
import referencing
from kubernetes_validate import utils as kv

# The Kubernetes minors we promise to support. kubernetes-validate 1.37.0 ships schemas for all of them.
SUPPORTED_VERSIONS = ("1.30", "1.31", "1.32", "1.33", "1.34", "1.35")


class UnknownKindError(LookupError):
    pass


def shipped_versions() -> set[str]:
    return {kv.major_minor(v) for v in kv.all_versions()}


def _schema_dir(version: str) -> str:
    return f"kubernetes-json-schema/v{version}.0-local-strict"


@functools.cache
def _registry(version: str) -> referencing.Registry:
    definitions = kv.schema_contents(f"{_schema_dir(version)}/_definitions.json", version)
    return referencing.Resource.from_contents(definitions) @ referencing.Registry()


@functools.cache
def _validator(version: str, kind: str, api_version: str) -> jsonschema.protocols.Validator:
    # Same file naming as kubernetes-validate: rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1.
    group, _, ver = api_version.rpartition("/")
    suffix = f"{group.split('.')[0]}-{ver}" if group else ver
    try:
        schema = kv.schema_contents(f"{_schema_dir(version)}/{kind.lower()}-{suffix}.json", version)
    except FileNotFoundError:
        raise UnknownKindError(f"Kubernetes {version} has no schema for {api_version} {kind}") from None
    registry = referencing.Resource.from_contents(schema) @ _registry(version)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate(obj: dict[str, Any], version: str) -> list[str]:
    """Every schema error of `obj` against Kubernetes `version` ("1.33"), as "path: message" lines."""
    try:
        validator = _validator(version, obj.get("kind", ""), obj.get("apiVersion", ""))
    except UnknownKindError as err:
        return [str(err)]
    errors = []
    for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(p) for p in error.absolute_path) or "(root)"
        errors.append(f"{path}: {error.message}")
    return errors

"""Find Secret material outside Secrets: in ConfigMaps, env `value:` literals and annotations.

Two independent signals:
- a value of a rendered Secret (decoded) that shows up anywhere else in the rendered objects;
- a sensitive key name (password, token, fernet, sql_alchemy_conn, ...) given a literal value in a
  ConfigMap entry, an airflow.cfg-style line inside one, or a container env `value:`.
Airflow's `<key>_cmd` / `<key>_secret` options name a command or a secrets-backend entry, and
`<key>_file` / `<key>_path` name a mounted file, rather than holding the secret: not leaks.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from tests.lib.conformance.pod_specs_in_manifests import PodSpec, embedded_pods
from tests.lib.conformance.pss import CONTAINER_LISTS

SENSITIVE_KEY = re.compile(
    r"password|passwd|secret|token|fernet|sql_alchemy_conn|private[_-]?key|api[_-]?key|credential", re.IGNORECASE)
# A pointer to a secret: a command, a secrets-backend key, a file, or (in code) an env var name.
INDIRECT_SUFFIX = re.compile(r"_(cmd|secret|file|path|env)$", re.IGNORECASE)
# Shorter Secret values (a user name such as "airflow", a port) are too common to prove a leak.
MIN_SECRET_LENGTH = 8
INI_LINE = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*=\s*(.*?)\s*$")
# In Python a value is literal only as a string (`password = "..."`); `secret = environ.get(...)` reads one.
PY_STRING = re.compile(r"^[rRbBuUfF]{0,2}['\"]")


@dataclass(frozen=True)
class Leak:
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"


def is_sensitive_key(key: str) -> bool:
    base = INDIRECT_SUFFIX.sub("", key)
    if base != key and SENSITIVE_KEY.search(base):
        return False  # e.g. sql_alchemy_conn_cmd, passwords_file: a pointer to the secret
    return bool(SENSITIVE_KEY.search(key))


def secret_values(objects: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Decoded value -> "Secret/<name>[<key>]" for every rendered Secret entry long enough to matter."""
    found = {}
    for obj in objects:
        if obj.get("kind") != "Secret":
            continue
        name = obj["metadata"]["name"]
        entries = {k: v for k, v in (obj.get("stringData") or {}).items()}
        for key, encoded in (obj.get("data") or {}).items():
            try:
                entries[key] = base64.b64decode(str(encoded), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                entries[key] = str(encoded)  # binary or malformed: compare as written
        for key, value in entries.items():
            if isinstance(value, str) and len(value.strip()) >= MIN_SECRET_LENGTH:
                found[value.strip()] = f"Secret/{name}[{key}]"
    return found


def _strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def _places_outside_secrets(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) for every ConfigMap value, annotation and env literal of one object."""
    origin = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
    if obj.get("kind") == "ConfigMap":
        for key, text in (obj.get("data") or {}).items():
            yield f"{origin} data.{key}", str(text)
    for where, text in _strings(obj, origin):
        if ".annotations." in where or re.search(r"\.env\[\d+\]\.value$", where):
            yield where, text


def rendered_secret_leaks(objects: list[dict[str, Any]]) -> list[Leak]:
    """Values of rendered Secrets that also appear in a ConfigMap, an annotation or an env literal."""
    values = secret_values(objects)
    leaks = []
    for obj in objects:
        if obj.get("kind") == "Secret":
            continue
        for where, text in _places_outside_secrets(obj):
            for value, source in values.items():
                if value in text:
                    leaks.append(Leak(where, f"contains the value of {source}"))
    return leaks


def config_map_key_leaks(config_map: dict[str, Any]) -> list[Leak]:
    """Sensitive keys with literal values in a ConfigMap, including key = value lines of an embedded
    .cfg, and string assignments of an embedded Python file."""
    origin = f"ConfigMap/{config_map['metadata']['name']}"
    pod_keys = {key for key, _ in embedded_pods(config_map)}  # their env is checked as a pod
    leaks = []
    for key, text in (config_map.get("data") or {}).items():
        if is_sensitive_key(key) and str(text).strip():
            leaks.append(Leak(f"{origin} data.{key}", "a sensitive key holds a literal value; use a Secret"))
        if key in pod_keys:
            continue
        for line_no, line in enumerate(str(text).splitlines(), 1):
            match = INI_LINE.match(line)
            if match and key.endswith(".py") and not PY_STRING.match(match.group(2)):
                continue
            if match and is_sensitive_key(match.group(1)) and match.group(2):
                leaks.append(Leak(f"{origin} data.{key} line {line_no}",
                                  f"`{match.group(1)}` holds a literal value; load it from a Secret"))
    return leaks


def env_literal_leaks(pod: PodSpec) -> list[Leak]:
    """Container env entries whose name is sensitive but whose value is a literal, not a secretKeyRef."""
    leaks = []
    for list_name in CONTAINER_LISTS:
        for container in pod.spec.get(list_name) or []:
            for env in container.get("env") or []:
                if is_sensitive_key(env.get("name", "")) and str(env.get("value") or "").strip():
                    leaks.append(Leak(f"{pod.origin} {list_name}[{container.get('name')}].env[{env['name']}]",
                                      "a sensitive variable has a literal value; use valueFrom.secretKeyRef"))
    return leaks


def all_leaks(objects: list[dict[str, Any]], pods: list[PodSpec]) -> list[Leak]:
    leaks = rendered_secret_leaks(objects)
    for obj in objects:
        if obj.get("kind") == "ConfigMap":
            leaks += config_map_key_leaks(obj)
    for pod in pods:
        leaks += env_literal_leaks(pod)
    return leaks

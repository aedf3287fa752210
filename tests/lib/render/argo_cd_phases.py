"""The Argo CD sync phase a rendered object is applied in, read from its annotations as Argo CD reads them.

Argo CD applies a chart rendered with `helm template` and maps Helm's hooks onto its own phases
(gitops-engine, pkg/sync/hook): an `argocd.argoproj.io/hook` annotation wins; otherwise
`helm.sh/hook: pre-install`/`pre-upgrade` → PreSync, `post-install`/`post-upgrade` → PostSync, and any
other Helm hook (`test`, `pre-delete`, …) makes the object a hook of no phase, which is never applied.
Every other object is applied in the Sync phase. PostSync starts once every Sync resource is Healthy.
"""

from __future__ import annotations

from typing import Any

SYNC = "Sync"
NEVER_APPLIED = None
_HELM_PHASES = {
    "pre-install": "PreSync",
    "pre-upgrade": "PreSync",
    "post-install": "PostSync",
    "post-upgrade": "PostSync",
}


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def sync_phases(obj: dict[str, Any]) -> set[str | None]:
    """The phases Argo CD applies `obj` in: {"Sync"} for a plain resource, {None} for a hook it never applies."""
    annotations = obj.get("metadata", {}).get("annotations") or {}
    argo = _csv(annotations.get("argocd.argoproj.io/hook", ""))
    if argo:
        return set(argo)
    helm = annotations.get("helm.sh/hook")
    if helm is None or helm == "crd-install":
        return {SYNC}
    return {_HELM_PHASES[h] for h in _csv(helm) if h in _HELM_PHASES} or {NEVER_APPLIED}

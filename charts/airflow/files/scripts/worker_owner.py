"""Worker pods owned by the release: `helm uninstall` leaves none behind, whatever the scheduler does.

The scheduler that launched a worker pod deletes it once its task ends. `helm uninstall` deletes the
scheduler with everything else, so a worker pod whose task ends afterwards (or that the scheduler
created while being deleted) would never be deleted: it would keep the logs claim Terminating, and
`helm uninstall --wait` would wait for it until its timeout.

So every worker pod carries an ownerReference to the release's pod-template ConfigMap. `helm
uninstall` deletes that ConfigMap, and Kubernetes' garbage collector deletes each pod it owns, also
one created after the ConfigMap was gone (an owner that does not exist owns nothing). A deleted
worker's task gets SIGTERM: KubernetesPodOperator's on_kill deletes the pod it launched. Upgrades keep
the ConfigMap (helm updates it in place), so they leave running tasks alone; a scheduler restart
adopts the running worker pods as before.

The ConfigMap's uid exists only in the cluster, so the scheduler's init container (`own-worker-pods`)
reads it, with the scheduler's ServiceAccount token (its Role allows `get` on that one ConfigMap),
and writes the pod template the KubernetesExecutor reads with the reference added. Python's standard
library and PyYAML (an Airflow dependency) only: no Kubernetes client import, no Airflow import.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
TIMEOUT_SECONDS = 10


class OwnerError(RuntimeError):
    """The ConfigMap could not be read: the message says what to fix."""


def owner_reference(configmap: dict[str, Any]) -> dict[str, Any]:
    """The reference that makes `configmap` (as the API returns it) own a pod. Not a controller and not
    blocking the owner's deletion: the garbage collector deletes the pod after the ConfigMap, and
    creating such a reference needs no permission on the ConfigMap beyond reading its uid."""
    meta = configmap["metadata"]
    return {"apiVersion": "v1", "kind": "ConfigMap", "name": meta["name"], "uid": meta["uid"]}


def owned_template(template: str, owner: dict[str, Any]) -> str:
    """The pod template `template` (YAML) with `owner` among its metadata's ownerReferences."""
    pod = yaml.safe_load(template)
    if not isinstance(pod, dict) or pod.get("kind") != "Pod":
        raise OwnerError("the pod template is not a Pod manifest; the chart's pod-template ConfigMap holds one")
    meta = pod.setdefault("metadata", {})
    references = [r for r in meta.get("ownerReferences") or [] if r.get("uid") != owner["uid"]]
    meta["ownerReferences"] = [*references, owner]
    return yaml.safe_dump(pod, sort_keys=False)


def read_configmap(name: str, account: Path | None = None) -> dict[str, Any]:
    """GET the ConfigMap `name` of this pod's namespace from the API server, as this pod's ServiceAccount
    (its token, namespace and CA in `account`, SERVICE_ACCOUNT unless given)."""
    account = account or SERVICE_ACCOUNT
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if not host:
        raise OwnerError("KUBERNETES_SERVICE_HOST is unset: this runs only in a pod of the cluster")
    try:
        namespace = (account / "namespace").read_text().strip()
        bearer = (account / "token").read_text().strip()
    except OSError as error:
        raise OwnerError(f"no ServiceAccount token in {account} ({error.strerror}): the scheduler's pod "
                         "needs automountServiceAccountToken") from error  # fmt: skip
    address = f"[{host}]" if ":" in host else host
    url = f"https://{address}:{port}/api/v1/namespaces/{namespace}/configmaps/{name}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {bearer}", "Accept": "application/json"})
    context = ssl.create_default_context(cafile=str(account / "ca.crt"))
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS, context=context) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        hint = {403: "the scheduler's Role must allow get on it (rbac.create, or grant it yourself)",
                404: "the chart creates it with the release; was it deleted by hand?"}.get(error.code, "")  # fmt: skip
        raise OwnerError(f"reading ConfigMap {namespace}/{name}: HTTP {error.code} {error.reason}; {hint}") from error
    except (urllib.error.URLError, OSError) as error:
        raise OwnerError(f"reading ConfigMap {namespace}/{name} from {url}: {error}") from error


def write_owned_template(source: Path, target: Path, configmap: str) -> None:
    """The init container's work: `source` (the mounted ConfigMap's template) to `target`, owned."""
    owner = owner_reference(read_configmap(configmap))
    target.write_text(owned_template(source.read_text(), owner))
    print(f"{target}: worker pods are owned by ConfigMap {configmap} (uid {owner['uid']})")


def main(source: str, target: str, configmap: str) -> None:
    try:
        write_owned_template(Path(source), Path(target), configmap)
    except OwnerError as error:
        sys.exit(f"own-worker-pods: {error}")

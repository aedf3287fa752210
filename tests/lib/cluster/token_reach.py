"""What a pod's own ServiceAccount token may do to another pod and a Secret, asked of the API server
from inside that pod, as code running there (a DAG's task in a worker pod) would ask it.

Run in the pod: `python - NAMESPACE POD SECRET LAUNCH_NAMESPACE < token_reach.py`; it prints one JSON
object, {attempt: HTTP status}. Standard library only, so it runs in any image with Python.
The API server authorizes before it does anything else, so a refused attempt answers 403 whatever it
asked. An exec it allows answers 400 (the request asks for no stream upgrade), and the delete is a
dry run: nothing is changed even where the token may do it.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path

ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
REFUSED = 403


def status(method: str, path: str, account: Path = ACCOUNT) -> int:
    """The HTTP status of `method path` on the API server, with the token of `account` (the pod's)."""
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    request = urllib.request.Request(f"https://{host}:{port}{path}", method=method)
    request.add_header("Authorization", f"Bearer {(account / 'token').read_text().strip()}")
    context = ssl.create_default_context(cafile=str(account / "ca.crt"))
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def attempts(namespace: str, pod: str, secret: str, launch_namespace: str, account: Path = ACCOUNT) -> dict[str, int]:
    pods = f"/api/v1/namespaces/{namespace}/pods"
    tried = {
        "exec into the pod": ("POST", f"{pods}/{pod}/exec?command=true&stdout=true"),
        "read the pod's log": ("GET", f"{pods}/{pod}/log?tailLines=1"),
        "delete the pod": ("DELETE", f"{pods}/{pod}?dryRun=All"),
        "list the pods": ("GET", f"{pods}?limit=1"),
        "read the Secret": ("GET", f"/api/v1/namespaces/{namespace}/secrets/{secret}"),
        "list pods where tasks run": ("GET", f"/api/v1/namespaces/{launch_namespace}/pods?limit=1"),
    }
    return {attempt: status(method, path, account) for attempt, (method, path) in tried.items()}


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print("usage: python - NAMESPACE POD SECRET LAUNCH_NAMESPACE < token_reach.py", file=sys.stderr)
        return 2
    print(json.dumps(attempts(*argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""An HTTPS stand-in for the Kubernetes API server on localhost, for the scripts that call the API with
a pod's own ServiceAccount: its certificate signed by a private CA, and the ServiceAccount folder as the
kubelet mounts it (token, namespace, that CA). The handler says what the "API server" answers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.lib.test_servers.local_tls import serve_tls


@contextlib.contextmanager
def local_api_server(handler: type[BaseHTTPRequestHandler], workdir: Path, token: str,
                     namespace: str = "airflow") -> Iterator[tuple[Path, int]]:  # fmt: skip
    """Serve `handler` over TLS on 127.0.0.1 while the block runs; yields (the ServiceAccount folder, the
    port), for KUBERNETES_SERVICE_HOST=localhost and KUBERNETES_SERVICE_PORT=<port>."""
    with serve_tls(handler, workdir, "test-cluster-ca") as (port, ca_pem):
        account = workdir / "serviceaccount"
        account.mkdir()
        (account / "ca.crt").write_bytes(ca_pem)
        (account / "token").write_text(token)
        (account / "namespace").write_text(namespace)
        yield account, port

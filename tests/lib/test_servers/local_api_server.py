"""An HTTPS stand-in for the Kubernetes API server on localhost, for the scripts that call the API with
a pod's own ServiceAccount: its certificate signed by a private CA, and the ServiceAccount folder as the
kubelet mounts it (token, namespace, that CA). The handler says what the "API server" answers."""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.lib.test_servers.private_ca import PrivateCa


@contextlib.contextmanager
def local_api_server(handler: type[BaseHTTPRequestHandler], workdir: Path, token: str,
                     namespace: str = "airflow") -> Iterator[tuple[Path, int]]:  # fmt: skip
    """Serve `handler` over TLS on 127.0.0.1 while the block runs; yields (the ServiceAccount folder, the
    port), for KUBERNETES_SERVICE_HOST=localhost and KUBERNETES_SERVICE_PORT=<port>."""
    ca = PrivateCa("test-cluster-ca")
    cert, key = ca.issue("localhost", ["localhost"])
    (workdir / "tls.crt").write_bytes(cert)
    (workdir / "tls.key").write_bytes(key)
    account = workdir / "serviceaccount"
    account.mkdir()
    (account / "ca.crt").write_bytes(ca.pem)
    (account / "token").write_text(token)
    (account / "namespace").write_text(namespace)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(workdir / "tls.crt", workdir / "tls.key")
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield account, server.server_address[1]
    finally:
        server.shutdown()

"""An HTTPS server on 127.0.0.1 for the offline tests, its certificate (for `localhost`) signed by a
private CA made for it: what a client trusting that CA alone sees of a real server."""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.lib.test_servers.private_ca import PrivateCa


@contextlib.contextmanager
def serve_tls(handler: type[BaseHTTPRequestHandler], workdir: Path, ca_name: str) -> Iterator[tuple[int, bytes]]:
    """Serve `handler` over TLS while the block runs; yields (the port, the CA's PEM)."""
    ca = PrivateCa(ca_name)
    cert, key = ca.issue("localhost", ["localhost"])
    (workdir / "tls.crt").write_bytes(cert)
    (workdir / "tls.key").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(workdir / "tls.crt", workdir / "tls.key")
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], ca.pem
    finally:
        server.shutdown()
        server.server_close()

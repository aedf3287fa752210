"""An OpenID Connect issuer's public face on localhost over TLS, for the offline tests of the chart's
sign-in module (files/fab_oidc.py): the discovery document and the JWKS of one RSA key, with which
`token()` signs access tokens. Nothing signs anyone in here: the e2e tests' Keycloak does that
(tests/lib/test_servers/identity_provider.py)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.lib.test_servers.local_tls import serve_tls

REALM_PATH = "/realms/test"
KEY_ID = "test-key"


@dataclass
class LocalIssuer:
    port: int
    ca_pem: bytes
    key: rsa.RSAPrivateKey = field(repr=False)

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}{REALM_PATH}"

    def token(self, **claims: Any) -> str:
        """An access token of this issuer: `claims` over iss, iat and exp (five minutes)."""
        now = int(time.time())
        body = {"iss": self.url, "iat": now, "exp": now + 300, **claims}
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": KEY_ID})


def discovery(base: str) -> dict[str, Any]:
    return {"issuer": base, "authorization_endpoint": f"{base}/protocol/openid-connect/auth",
            "token_endpoint": f"{base}/protocol/openid-connect/token", "jwks_uri": f"{base}/protocol/openid-connect/certs",
            "userinfo_endpoint": f"{base}/protocol/openid-connect/userinfo",
            "id_token_signing_alg_values_supported": ["RS256"], "response_types_supported": ["code"]}  # fmt: skip


@contextlib.contextmanager
def local_issuer(workdir: Path) -> Iterator[LocalIssuer]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = {"keys": [{**public, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}
    served: dict[str, dict[str, Any]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = served.get(self.path)
            if body is None:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    with serve_tls(Handler, workdir, "test-issuer-ca") as (port, ca_pem):
        issuer = LocalIssuer(port, ca_pem, key)
        served[f"{REALM_PATH}/.well-known/openid-configuration"] = discovery(issuer.url)
        served[f"{REALM_PATH}/protocol/openid-connect/certs"] = jwks
        yield issuer

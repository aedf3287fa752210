"""A real identity provider in the cluster: Keycloak (docker/keycloak, from Maven Central) over TLS
with a certificate of a private CA, in a namespace of its own, as production meets its IdP outside
the release. The test sets it up as an admin would, through Keycloak's admin REST API: a realm, a
confidential client for Airflow (its service account used by automation), a group mapper that puts
the user's groups into the tokens, groups and users.

This host reaches Keycloak at its Service's ClusterIP (kube-proxy routes the node's own traffic),
while TLS and the issuer name are Keycloak's DNS name, as pods and the browser see it
(`browser_flags` maps the name to the address for Chromium).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import secrets
import socket
import ssl
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.lib.cluster.reachability import wait_while_refused
from tests.lib.cluster.target import ClusterTarget
from tests.lib.test_servers import server_manifest
from tests.lib.test_servers.private_ca import PrivateCa
from tests.lib.test_servers.server_manifest import Port, ServerSpec, Volume, from_secret, literal

IMAGE = "airflow-on-k8s/keycloak:26.5.6"  # hack/images/build.sh KEYCLOAK_IMAGE
NAME = "keycloak"
PORT = 8443
MANAGEMENT_PORT = 9000  # health endpoints
REALM = "airflow"
CLIENT_ID = "airflow"
ADMIN_GROUP = "airflow-admins"
VIEWER_GROUP = "airflow-viewers"


def server_spec(host: str) -> ServerSpec:
    return ServerSpec(
        name=NAME,
        image=IMAGE,
        uid=10004,
        ports=(Port("https", PORT), Port("management", MANAGEMENT_PORT)),
        args=("start", "--optimized", "--https-certificate-file=/tls/tls.crt", "--https-certificate-key-file=/tls/tls.key",
              f"--hostname=https://{host}:{PORT}", "--http-enabled=false"),  # fmt: skip
        env=(literal("KC_BOOTSTRAP_ADMIN_USERNAME", "admin"),
             from_secret("KC_BOOTSTRAP_ADMIN_PASSWORD", f"{NAME}-admin", "password")),  # fmt: skip
        readiness={"httpGet": {"path": "/health/ready", "port": MANAGEMENT_PORT, "scheme": "HTTPS"}},
        requests=("100m", "512Mi"),
        limits=("1", "1Gi"),
        volumes=(Volume("tls", "/tls", {"secret": {"secretName": f"{NAME}-tls"}}, read_only=True),
                 Volume("data", "/opt/keycloak/data"), Volume("tmp", "/tmp")),  # fmt: skip
    )


class KeycloakError(RuntimeError):
    pass


@dataclass
class User:
    username: str
    password: str
    groups: tuple[str, ...]


@dataclass
class IdentityProvider:
    target: ClusterTarget
    namespace: str
    workdir: Path
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    cluster_ip: str = ""
    ca_pem: bytes = b""

    @property
    def host(self) -> str:
        return f"{NAME}.{self.namespace}.svc"

    @property
    def issuer(self) -> str:
        return f"https://{self.host}:{PORT}/realms/{REALM}"

    def browser_flags(self) -> list[str]:
        """Chromium's flag that sends Keycloak's name to its Service address."""
        return [f"--host-resolver-rules=MAP {self.host} {self.cluster_ip}"]

    def deploy(self) -> None:
        """Certificate, admin password, Deployment and Service; returns once Keycloak is ready."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        ca = PrivateCa("airflow-on-k8s test identity provider CA")
        self.ca_pem = ca.pem
        tls_crt, tls_key = ca.issue(self.host, [self.host, f"{self.host}.cluster.local", f"{NAME}.{self.namespace}"])
        (self.workdir / "tls.crt").write_bytes(tls_crt)
        (self.workdir / "tls.key").write_bytes(tls_key)
        kubectl = self.target.kubectl
        kubectl("create", "secret", "tls", f"{NAME}-tls", "-n", self.namespace,
                f"--cert={self.workdir / 'tls.crt'}", f"--key={self.workdir / 'tls.key'}")  # fmt: skip
        kubectl("create", "secret", "generic", f"{NAME}-admin", "-n", self.namespace,
                f"--from-literal=password={self.admin_password}")  # fmt: skip
        server_manifest.deploy(self.target, self.namespace, server_spec(self.host), timeout_s=300)
        self.cluster_ip = self.target.kubectl_json("get", "service", NAME, "-n", self.namespace)["spec"]["clusterIP"]
        error = wait_while_refused(self.cluster_ip, PORT)
        if error is not None:
            raise KeycloakError(f"Keycloak's Service {self.cluster_ip}:{PORT} does not connect: {error}")

    # ------------------------------------------------------------------ HTTP, as this host reaches it

    def request(self, method: str, path: str, body: Any = None, token: str = "", form: dict[str, str] | None = None,
                ok: tuple[int, ...] = (200, 201, 204)) -> tuple[int, Any]:  # fmt: skip
        """One HTTPS request to Keycloak (its name checked against the certificate, its address the
        ClusterIP); JSON in and out. Raises KeycloakError on a status outside `ok`."""
        context = ssl.create_default_context(cadata=self.ca_pem.decode())
        connection = _PinnedHttps(self.host, (self.cluster_ip, PORT), context)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        answer = json.loads(raw) if raw and raw.lstrip()[:1] in (b"{", b"[") else raw.decode()
        if response.status not in ok:
            raise KeycloakError(f"{method} {path}: {response.status} {answer}")
        return response.status, answer

    def token(self, form: dict[str, str], realm: str = REALM) -> dict[str, Any]:
        return self.request("POST", f"/realms/{realm}/protocol/openid-connect/token", form=form)[1]

    def admin_token(self) -> str:
        return self.token({"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                           "password": self.admin_password}, realm="master")["access_token"]  # fmt: skip

    def client_credentials(self, secret: str | None = None) -> tuple[int, dict[str, Any]]:
        """(status, body) of the client-credentials grant of Airflow's client: what a script does."""
        form = {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                "client_secret": self.client_secret if secret is None else secret}  # fmt: skip
        return self.request("POST", f"/realms/{REALM}/protocol/openid-connect/token", form=form, ok=(200, 400, 401))

    def airflow_token(self, airflow_url: str) -> str:
        """An Airflow token for the client's service account (the admin group), as a script gets
        one: the client-credentials grant, then the exchange at Airflow's /auth/token."""
        from tests.lib.live_airflow.rest_api import exchanged_token

        status, body = self.client_credentials()
        if status != 200:
            raise KeycloakError(f"client credentials refused: {status} {body}")
        status, body = exchanged_token(airflow_url, body["access_token"])
        if status != 201:
            raise KeycloakError(f"Airflow at {airflow_url} refused the exchange: {status} {body}")
        return body["access_token"]

    # ------------------------------------------------------------------ what an admin sets up

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        return self.request(method, f"/admin/realms{path}", body, token=self.admin_token())[1]

    def create_realm(self, redirect_uri: str = "*") -> None:
        """The realm, Airflow's client with the groups mapper and the two groups; the client's
        service account joins the admin group (the automation's identity)."""
        self.admin("POST", "", {"realm": REALM, "enabled": True})
        for group in (ADMIN_GROUP, VIEWER_GROUP):
            self.admin("POST", f"/{REALM}/groups", {"name": group})
        groups_mapper = {"name": "groups", "protocol": "openid-connect", "protocolMapper": "oidc-group-membership-mapper",
                         "config": {"claim.name": "groups", "full.path": "false", "id.token.claim": "true",
                                    "access.token.claim": "true", "userinfo.token.claim": "true"}}  # fmt: skip
        self.admin("POST", f"/{REALM}/clients", {
            "clientId": CLIENT_ID, "secret": self.client_secret, "publicClient": False, "enabled": True,
            "standardFlowEnabled": True, "directAccessGrantsEnabled": False, "serviceAccountsEnabled": True,
            "redirectUris": [redirect_uri], "protocolMappers": [groups_mapper]})  # fmt: skip
        (client,) = self.admin("GET", f"/{REALM}/clients?clientId={CLIENT_ID}")
        account = self.admin("GET", f"/{REALM}/clients/{client['id']}/service-account-user")
        self.admin("PUT", f"/{REALM}/users/{account['id']}/groups/{self.group_id(ADMIN_GROUP)}")

    def create_users(self, users: list[User]) -> None:
        """People with a password, in their groups."""
        for user in users:
            self.admin("POST", f"/{REALM}/users", {
                "username": user.username, "enabled": True, "email": f"{user.username}@example.com", "emailVerified": True,
                "firstName": user.username.capitalize(), "lastName": "Tester", "requiredActions": [],
                "credentials": [{"type": "password", "value": user.password, "temporary": False}],
                "groups": [f"/{g}" for g in user.groups]})  # fmt: skip

    def group_id(self, name: str) -> str:
        (group,) = [g for g in self.admin("GET", f"/{REALM}/groups") if g["name"] == name]
        return group["id"]

    def leave_group(self, username: str, group: str) -> None:
        (user,) = self.admin("GET", f"/{REALM}/users?username={username}&exact=true")
        self.admin("DELETE", f"/{REALM}/users/{user['id']}/groups/{self.group_id(group)}")

    @contextlib.contextmanager
    def unreachable(self) -> Iterator[None]:
        """Keycloak down, as its clients see it (server_manifest.unreachable); its realm stays. Back,
        once its Service connects again."""
        try:
            with server_manifest.unreachable(self.target, self.namespace, server_spec(self.host)):
                yield
        finally:
            wait_while_refused(self.cluster_ip, PORT)


class _PinnedHttps(http.client.HTTPSConnection):
    """HTTPS to `host` (SNI, certificate name, Host header) at a given address."""

    def __init__(self, host: str, address: tuple[str, int], context: ssl.SSLContext):
        super().__init__(host, address[1], context=context, timeout=30)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection(self._address, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)

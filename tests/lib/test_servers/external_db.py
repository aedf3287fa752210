"""A PostgreSQL outside the release, in a namespace of its own, as a production install meets a
managed database: TLS only, its certificate signed by a private CA, and the release gets the URL
through the metadata Secret and the CA through a ConfigMap (values/prod.yaml's commands).

It is the project's PostgreSQL image (Debian's PostgreSQL 15) as a plain Deployment on an emptyDir.
Its pg_hba.conf has `hostssl` lines only: a connection over TCP without TLS is refused by the
server, as a managed service refuses it; the local socket (psql in the pod, for the tests' queries)
is trusted.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

from tests.lib.cluster.target import ClusterTarget
from tests.lib.test_servers import server_manifest
from tests.lib.test_servers.private_ca import PrivateCa
from tests.lib.test_servers.server_manifest import Port, ServerSpec, Volume, from_secret, literal

IMAGE = "airflow-on-k8s/postgresql:15"
NAME = "postgres"
USER = "airflow"
DATABASE = "airflow"
TLS_DIR, HBA_DIR = "/etc/postgresql-tls", "/etc/postgresql-hba"
HBA = """\
local all all trust
hostssl all all all scram-sha-256
"""

SERVER = ServerSpec(
    name=NAME,
    container="postgresql",
    image=IMAGE,
    uid=10001,
    ports=(Port("postgresql", 5432),),
    args=("postgres", "-c", "ssl=on", "-c", f"ssl_cert_file={TLS_DIR}/tls.crt", "-c", f"ssl_key_file={TLS_DIR}/tls.key",
          "-c", f"hba_file={HBA_DIR}/pg_hba.conf"),  # fmt: skip
    env=(literal("POSTGRES_USER", USER), literal("POSTGRES_DB", DATABASE), from_secret("POSTGRES_PASSWORD", NAME, "password"),
         literal("PGDATA", "/var/lib/postgresql/data/pgdata")),  # fmt: skip
    readiness={"exec": {"command": ["pg_isready", "--host", "127.0.0.1", "--username", USER, "--dbname", DATABASE]}},
    requests=("25m", "128Mi"),
    limits=("500m", "512Mi"),
    volumes=(
        Volume("data", "/var/lib/postgresql/data"),
        Volume("run", "/var/run/postgresql"),
        Volume("tmp", "/tmp"),
        # PostgreSQL reads a key owned by root only if no one but root and its group may read it.
        Volume("tls", TLS_DIR, {"secret": {"secretName": f"{NAME}-tls", "defaultMode": 0o440}}, read_only=True),
        Volume("hba", HBA_DIR, {"configMap": {"name": f"{NAME}-hba"}}, read_only=True),
    ),
)


@dataclass
class ExternalDatabase:
    target: ClusterTarget
    namespace: str
    password: str = field(default_factory=lambda: secrets.token_hex(16))
    ca: PrivateCa = field(default_factory=lambda: PrivateCa("airflow-on-k8s test database CA"))

    @property
    def host(self) -> str:
        return f"{NAME}.{self.namespace}.svc"

    @property
    def url(self) -> str:
        """The connection URL a user puts in the release's metadata Secret: no TLS parameter, which
        the chart's data.tls gives both of Airflow's drivers."""
        return f"postgresql://{USER}:{self.password}@{self.host}:5432/{DATABASE}"

    def deploy(self) -> None:
        crt, key = self.ca.issue(self.host, [self.host, f"{self.host}.cluster.local", f"{NAME}.{self.namespace}", NAME])
        self.target.kubectl("create", "secret", "generic", NAME, "-n", self.namespace,
                            f"--from-literal=password={self.password}")  # fmt: skip
        tls = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": {"name": f"{NAME}-tls"},
               "stringData": {"tls.crt": crt.decode(), "tls.key": key.decode()}}  # fmt: skip
        hba = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"{NAME}-hba"},
            "data": {"pg_hba.conf": HBA},
        }
        for obj in (tls, hba):
            self.target.kubectl("apply", "-n", self.namespace, "-f", "-", stdin=json.dumps(obj))
        server_manifest.deploy(self.target, self.namespace, SERVER, timeout_s=180)

    def query(self, sql: str) -> list[str]:
        """Rows of `sql` run by psql in the database's pod, one string per row (columns joined by |)."""
        out = self.target.kubectl("exec", "-n", self.namespace, f"deploy/{NAME}", "--", "psql", "-U", USER,
                                  "-d", DATABASE, "-tAc", sql).stdout  # fmt: skip
        return [line for line in out.splitlines() if line]

    def connect_over_tcp(self, sslmode: str) -> tuple[int, str]:
        """(exit code, output) of psql connecting over TCP with the password and `sslmode`, from the
        database's own pod: what the server answers a client that does or does not use TLS."""
        conninfo = f"host=127.0.0.1 port=5432 user={USER} dbname={DATABASE} sslmode={sslmode}"
        done = self.target.kubectl("exec", "-n", self.namespace, f"deploy/{NAME}", "--", "env",
                                   f"PGPASSWORD={self.password}", "psql", conninfo, "-tAc", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                                   check=False)  # fmt: skip
        return done.returncode, (done.stdout + done.stderr).strip()

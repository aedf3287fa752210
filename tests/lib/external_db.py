"""A PostgreSQL outside the release, in a namespace of its own, as a production install meets its
database: the release only gets a connection URL through the metadata Secret.

It is the project's PostgreSQL image (Debian's PostgreSQL 15) as a plain Deployment on an emptyDir,
which is all the tests need of "a managed database somewhere else".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from .cluster import ClusterTarget

IMAGE = "airflow-on-k8s/postgresql:15"
NAME = "postgres"
USER = "airflow"
DATABASE = "airflow"

MANIFEST = """
apiVersion: v1
kind: Service
metadata: {{name: {name}, labels: {{app: {name}}}}}
spec:
  selector: {{app: {name}}}
  ports: [{{name: postgresql, port: 5432, targetPort: 5432}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, labels: {{app: {name}}}}}
spec:
  replicas: 1
  strategy: {{type: Recreate}}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      automountServiceAccountToken: false
      securityContext: {{runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001,
                        seccompProfile: {{type: RuntimeDefault}}}}
      containers:
        - name: postgresql
          image: {image}
          imagePullPolicy: IfNotPresent
          env:
            - {{name: POSTGRES_USER, value: {user}}}
            - {{name: POSTGRES_DB, value: {database}}}
            - {{name: POSTGRES_PASSWORD, valueFrom: {{secretKeyRef: {{name: {name}, key: password}}}}}}
            - {{name: PGDATA, value: /var/lib/postgresql/data/pgdata}}
          ports: [{{name: postgresql, containerPort: 5432}}]
          readinessProbe:
            exec: {{command: [pg_isready, --host, 127.0.0.1, --username, {user}, --dbname, {database}]}}
            periodSeconds: 2
          securityContext: {{allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                            capabilities: {{drop: [ALL]}}}}
          resources: {{requests: {{cpu: 25m, memory: 128Mi}}, limits: {{cpu: 500m, memory: 512Mi}}}}
          volumeMounts:
            - {{name: data, mountPath: /var/lib/postgresql/data}}
            - {{name: run, mountPath: /var/run/postgresql}}
            - {{name: tmp, mountPath: /tmp}}
      volumes:
        - {{name: data, emptyDir: {{}}}}
        - {{name: run, emptyDir: {{}}}}
        - {{name: tmp, emptyDir: {{}}}}
"""


@dataclass
class ExternalDatabase:
    target: ClusterTarget
    namespace: str
    password: str = field(default_factory=lambda: secrets.token_hex(16))

    @property
    def url(self) -> str:
        """The connection URL a user puts in the release's metadata Secret (no TLS on this test server)."""
        return f"postgresql://{USER}:{self.password}@{NAME}.{self.namespace}.svc:5432/{DATABASE}?sslmode=disable"

    def deploy(self) -> None:
        self.target.kubectl("create", "secret", "generic", NAME, "-n", self.namespace,
                            f"--from-literal=password={self.password}")  # fmt: skip
        manifest = MANIFEST.format(name=NAME, image=IMAGE, user=USER, database=DATABASE)
        self.target.kubectl("apply", "-n", self.namespace, "-f", "-", stdin=manifest)
        self.target.kubectl("rollout", "status", "-n", self.namespace, f"deployment/{NAME}", "--timeout=180s")

    def query(self, sql: str) -> list[str]:
        """Rows of `sql` run by psql in the database's pod, one string per row (columns joined by |)."""
        out = self.target.kubectl("exec", "-n", self.namespace, f"deploy/{NAME}", "--", "psql", "-U", USER,
                                  "-d", DATABASE, "-tAc", sql).stdout  # fmt: skip
        return [line for line in out.splitlines() if line]

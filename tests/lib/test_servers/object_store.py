"""A real S3 server in the cluster (docker/s3-server: versitygw on a POSIX directory) in a namespace of
its own, as production meets an object store outside the release, and a boto3 client on this host
that creates the bucket and reads what Airflow wrote there, as a user would with the AWS CLI.

The client goes through the Service's ClusterIP (kube-proxy routes the node's own traffic too; the
node is admitted by the store's NetworkPolicy, as by every other). Pods reach it by its DNS name.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import boto3
from botocore.config import Config

from tests.lib.cluster.reachability import wait_while_refused
from tests.lib.cluster.target import ClusterTarget
from tests.lib.test_servers import server_manifest
from tests.lib.test_servers.server_manifest import Port, ServerSpec, Volume, from_secret

IMAGE = "airflow-on-k8s/s3-server:dev"
NAME = "s3"
PORT = 7070
REGION = "us-east-1"

SERVER = ServerSpec(
    name=NAME,
    image=IMAGE,
    uid=10003,
    ports=(Port("s3", PORT),),
    env=(from_secret("ROOT_ACCESS_KEY_ID", f"{NAME}-root", "access-key-id"),
         from_secret("ROOT_SECRET_ACCESS_KEY", f"{NAME}-root", "secret-access-key")),  # fmt: skip
    readiness={"tcpSocket": {"port": PORT}},
    requests=("25m", "64Mi"),
    limits=("500m", "256Mi"),
    volumes=(Volume("data", "/data"), Volume("tmp", "/tmp")),
)


@dataclass
class ObjectStore:
    target: ClusterTarget
    namespace: str
    access_key_id: str = field(default_factory=lambda: "AK" + secrets.token_hex(9).upper())
    # AWS-style: 40 characters of the base64 alphabet, '/' and '+' included.
    secret_access_key: str = field(default_factory=lambda: secrets.token_urlsafe(30).replace("-", "/").replace("_", "+"))

    @property
    def endpoint_url(self) -> str:
        """The URL pods use (the chart's logs.remote.s3.endpointUrl)."""
        return f"http://{NAME}.{self.namespace}.svc:{PORT}"

    def deploy(self) -> None:
        """Root credentials (a Secret), Deployment and Service; returns once the server answers."""
        self.target.kubectl("create", "secret", "generic", f"{NAME}-root", "-n", self.namespace,
                            f"--from-literal=access-key-id={self.access_key_id}",
                            f"--from-literal=secret-access-key={self.secret_access_key}")  # fmt: skip
        server_manifest.deploy(self.target, self.namespace, SERVER, timeout_s=120)

    def unreachable(self) -> contextlib.AbstractContextManager[None]:
        """The store down, as its clients see it (server_manifest.unreachable); its data stays."""
        return server_manifest.unreachable(self.target, self.namespace, SERVER)

    @cached_property
    def client(self):
        """boto3's S3 client on this host, through the Service's ClusterIP."""
        ip = self.target.kubectl_json("get", "service", NAME, "-n", self.namespace)["spec"]["clusterIP"]
        return boto3.client("s3", endpoint_url=f"http://{ip}:{PORT}", region_name=REGION,
                            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2},
                                          connect_timeout=5, read_timeout=20))  # fmt: skip

    def create_bucket(self, bucket: str) -> None:
        """The bucket, created through the Service once it answers: just rolled out, its address may
        be refused for a moment until kube-proxy's rules catch up."""
        ip = self.target.kubectl_json("get", "service", NAME, "-n", self.namespace)["spec"]["clusterIP"]
        wait_while_refused(ip, PORT, seconds=30)
        self.client.create_bucket(Bucket=bucket)

    def objects(self, bucket: str, prefix: str = "") -> dict[str, datetime]:
        """Key -> last modified of every object under `prefix`."""
        found: dict[str, datetime] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            found.update({o["Key"]: o["LastModified"] for o in page.get("Contents", [])})
        return found

    def read(self, bucket: str, key: str) -> str:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()

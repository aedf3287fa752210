"""A real git server in the cluster (docker/git-server: git-http-backend over https, sshd with
git-shell) holding one DAG repository, and a working copy on this host that pushes to it.

Its keys are made here: a CA and the server's https certificate (for the Service's DNS names), the
ssh host key (clients pin it in known_hosts), one ssh client key, and one https user with a token.
Pushes go from the host through the Service's ClusterIP (kube-proxy routes host traffic too) under
the same URL the pods use, the CA checked.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.lib.cluster.target import ClusterTarget
from tests.lib.test_servers import server_manifest
from tests.lib.test_servers.private_ca import PrivateCa
from tests.lib.test_servers.server_manifest import Port, ServerSpec, Volume

IMAGE = "airflow-on-k8s/git-server:dev"
NAME = "git-server"
REPO = "dags.git"
USERNAME = "airflow-dags-reader"

SERVER = ServerSpec(
    name=NAME,
    image=IMAGE,
    uid=10002,
    # The image runs both servers on unprivileged ports; the Service maps git's usual ones to them.
    ports=(Port("https", 443, 8443), Port("ssh", 22, 2222)),
    readiness={"tcpSocket": {"port": 8443}},
    requests=("25m", "64Mi"),
    limits=("500m", "256Mi"),
    volumes=(
        Volume("repos", "/srv/git"),
        Volume("tmp", "/tmp"),
        Volume("tls", "/etc/git-server/tls", {"secret": {"secretName": f"{NAME}-tls"}}, read_only=True),
        Volume("users", "/etc/git-server/users", {"secret": {"secretName": f"{NAME}-users"}}, read_only=True),
        Volume("ssh", "/etc/git-server/ssh", {"secret": {"secretName": f"{NAME}-ssh"}}, read_only=True),
    ),
    # As the git server has always run: its image's user owns what it writes, and it has not been
    # tried with a read-only root or a Recreate rollout (it is never rolled).
    fs_group=False,
    read_only_root=False,
    recreate=False,
)


@dataclass
class GitServer:
    target: ClusterTarget
    namespace: str
    workdir: Path
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    @property
    def host(self) -> str:
        return f"{NAME}.{self.namespace}.svc"

    @property
    def https_url(self) -> str:
        return f"https://{self.host}/git/{REPO}"

    @property
    def ssh_url(self) -> str:
        # scp-like: user `git`, port 22 (the Service), the repository relative to git's home /srv/git.
        return f"git@{self.host}:{REPO}"

    def deploy(self) -> None:
        """Keys, Secrets, Deployment and Service; returns once the server answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        ca = PrivateCa("airflow-on-k8s test git CA")
        self.ca_pem = ca.pem
        sans = [self.host, f"{self.host}.cluster.local", f"{NAME}.{self.namespace}"]
        tls_crt, tls_key = ca.issue(self.host, sans)
        host_key = ed25519.Ed25519PrivateKey.generate()
        client_key = ed25519.Ed25519PrivateKey.generate()
        openssh = serialization.PrivateFormat.OpenSSH
        self.client_private_key = client_key.private_bytes(serialization.Encoding.PEM, openssh,
                                                           serialization.NoEncryption()).decode()  # fmt: skip
        public = serialization.PublicFormat.OpenSSH
        self.host_public_key = host_key.public_key().public_bytes(serialization.Encoding.OpenSSH, public).decode()
        client_public = client_key.public_key().public_bytes(serialization.Encoding.OpenSSH, public).decode()
        files = {"ca.crt": self.ca_pem, "tls.crt": tls_crt, "tls.key": tls_key,
                 "users": f"{USERNAME}:{self.token}\n".encode(),
                 "ssh_host_ed25519_key": host_key.private_bytes(serialization.Encoding.PEM, openssh,
                                                                serialization.NoEncryption()),
                 "authorized_keys": f"{client_public} airflow-git-sync\n".encode()}  # fmt: skip
        for name, content in files.items():
            (self.workdir / name).write_bytes(content)
        w = self.workdir
        kubectl = self.target.kubectl
        kubectl(
            "create",
            "secret",
            "tls",
            f"{NAME}-tls",
            "-n",
            self.namespace,
            f"--cert={w / 'tls.crt'}",
            f"--key={w / 'tls.key'}",
        )
        kubectl(
            "create", "secret", "generic", f"{NAME}-users", "-n", self.namespace, f"--from-file=users={w / 'users'}"
        )
        kubectl("create", "secret", "generic", f"{NAME}-ssh", "-n", self.namespace,
                f"--from-file=ssh_host_ed25519_key={w / 'ssh_host_ed25519_key'}",
                f"--from-file=authorized_keys={w / 'authorized_keys'}")  # fmt: skip
        server_manifest.deploy(self.target, self.namespace, SERVER, timeout_s=120)
        self.cluster_ip = self.target.kubectl_json("get", "service", NAME, "-n", self.namespace)["spec"]["clusterIP"]

    @property
    def known_hosts(self) -> str:
        """The known_hosts line for the server (port 22, so no [host]:port form)."""
        return f"{self.host} {self.host_public_key}"

    # ------------------------------------------------------------------ the host's working copy

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        config = ["-c", f"http.curloptResolve={self.host}:443:{self.cluster_ip}",
                  "-c", "user.name=DAG author", "-c", "user.email=dags@example.com", "-c", "init.defaultBranch=main"]  # fmt: skip
        url = self.https_url.replace("https://", f"https://{USERNAME}:{self.token}@")
        cmd = ["git", *config, "-C", str(self.workdir / "checkout"), *args]
        # GIT_SSL_CAINFO, not http.sslCAInfo: the environment wins, and a host may set it to its own bundle.
        env = {**os.environ, "GIT_SSL_CAINFO": str(self.workdir / "ca.crt"), "GIT_TERMINAL_PROMPT": "0"}
        return subprocess.run([c.replace("{url}", url) for c in cmd], capture_output=True, text=True, check=check,
                              timeout=120, env=env)  # fmt: skip

    def push_directory(self, source: Path, into: str, message: str) -> str:
        """Commit a copy of `source` as folder `into` of the repository (creating the working copy the
        first time) and push it to main; returns the new commit's hash."""
        checkout = self.workdir / "checkout"
        if not checkout.exists():
            checkout.mkdir()
            self.git("init", "--quiet")
            self.git("remote", "add", "origin", "{url}")
        shutil.copytree(source, checkout / into, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))  # fmt: skip
        return self.commit_and_push(message)

    def write(self, path: str, content: str) -> None:
        file = self.workdir / "checkout" / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(content)

    def commit_and_push(self, message: str) -> str:
        self.git("add", "--all")
        self.git("commit", "--quiet", "-m", message)
        for _attempt in range(3):  # the server may still be starting its https side
            pushed = self.git("push", "--quiet", "origin", "HEAD:main", check=False)
            if pushed.returncode == 0:
                break
            time.sleep(2)
        else:
            raise AssertionError(f"git push to {self.https_url} failed:\n{pushed.stderr}")
        return self.git("rev-parse", "HEAD").stdout.strip()

"""hack/cluster's scripts without a cluster: which cluster a host gets and why, templates, and the
single-binary images the real node imports (hack/images/scratch_image.py)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

from lib.paths import REPO
from lib.unprivileged import unprivileged

CLUSTER = REPO / "hack" / "cluster"
SCRATCH_IMAGE = REPO / "hack" / "images" / "scratch_image.py"


def choose(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLUSTER / "choose.sh")], capture_output=True, text=True, timeout=60, env=env)


def no_docker_env(tmp_path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}


def test_a_user_who_is_not_root_gets_simulated_nodes_and_is_told_why():
    with unprivileged("hack/cluster") as user:
        proc = subprocess.run(user.command("hack/cluster/choose.sh"), capture_output=True, text=True, timeout=60,
                              env=no_docker_env(user.home))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.strip().splitlines()
    assert line.startswith("kwok because ") and "needs root" in line and "simulated" in line, line


@pytest.mark.skipif(os.geteuid() != 0 or sys.platform != "linux", reason="the real node is chosen only for root on Linux")
def test_root_on_linux_without_docker_gets_the_real_node(tmp_path):
    proc = choose(no_docker_env(tmp_path))
    (line,) = proc.stdout.strip().splitlines()
    assert line.startswith("node because no Docker daemon is reachable"), line


def test_cluster_mode_overrides_the_choice_and_a_wrong_one_is_refused(tmp_path):
    env = no_docker_env(tmp_path)
    assert choose({**env, "CLUSTER_MODE": "kwok"}).stdout.strip() == "kwok because CLUSTER_MODE=kwok was set"
    wrong = choose({**env, "CLUSTER_MODE": "minikube"})
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == "choose: CLUSTER_MODE must be kind, node or kwok, not 'minikube'"


def test_the_network_policy_engine_is_kube_router_unless_none_and_a_wrong_one_is_refused(tmp_path):
    def engine(value: str | None) -> subprocess.CompletedProcess[str]:
        env = no_docker_env(tmp_path) | ({"NETWORK_POLICY_ENGINE": value} if value is not None else {})
        script = f'source "{CLUSTER / "config.sh"}" && echo "$NETWORK_POLICY_ENGINE"'
        return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30, env=env)

    assert engine(None).stdout.strip() == "kube-router"
    assert engine("none").stdout.strip() == "none"
    wrong = engine("calico")
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == "NETWORK_POLICY_ENGINE=calico is not known: use kube-router (the default) or none"


def test_kube_proxy_runs_in_nftables_mode(tmp_path):
    # kube-router rewrites the iptables filter table; kube-proxy's rules must live elsewhere.
    proxy = render("kube-proxy.yaml")
    assert proxy.returncode == 0, proxy.stderr
    assert "\nmode: nftables\n" in proxy.stdout


def render(template: str, **values: str) -> subprocess.CompletedProcess[str]:
    assignments = " ".join(f"{k}={v!r}" for k, v in values.items())
    script = f'source "{CLUSTER / "config.sh"}" && {assignments} render "{CLUSTER / "node" / template}"'
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)


def test_node_templates_render_with_the_clusters_addresses():
    kubelet = render("kubelet.yaml")
    assert kubelet.returncode == 0, kubelet.stderr
    assert "@@" not in kubelet.stdout
    assert "clusterDNS: [10.96.0.10]" in kubelet.stdout and "address: 10.244.0.1" in kubelet.stdout


def test_a_template_value_that_is_not_set_is_an_error_not_an_empty_string():
    proc = render("coredns.yaml")  # needs COREDNS_IMAGE, which only node/up.sh sets
    assert proc.returncode == 1
    assert proc.stderr.strip().endswith("uses @@COREDNS_IMAGE@@, which is not set")


def scratch_image(tmp_path, name: str) -> bytes:
    binary = tmp_path / "tool"
    binary.write_bytes(b"\x7fELF not really, but bytes all the same")
    out = tmp_path / name
    subprocess.run([sys.executable, str(SCRATCH_IMAGE), str(out), "example/tool:1.0", str(binary), "--user", "65532:65532"],
                   check=True, timeout=30)  # fmt: skip
    return out.read_bytes()


def test_scratch_images_are_docker_archives_and_the_same_bytes_every_time(tmp_path):
    first, second = scratch_image(tmp_path, "a.tar"), scratch_image(tmp_path, "b.tar")
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    with tarfile.open(fileobj=io.BytesIO(first)) as archive:
        (manifest,) = json.load(archive.extractfile("manifest.json"))
        config = json.load(archive.extractfile(manifest["Config"]))
        layer = tarfile.open(fileobj=archive.extractfile(manifest["Layers"][0]))
        files = {m.name: m for m in layer.getmembers()}
    assert manifest["RepoTags"] == ["example/tool:1.0"]
    assert config["config"]["User"] == "65532:65532" and config["config"]["Entrypoint"] == ["/tool"]
    assert files["tool"].mode == 0o755 and files["tool"].uid == 0 and files["tmp"].isdir()
    # The config names the layer by the digest of its bytes, as image stores check it.
    digest = hashlib.sha256(tarfile.open(fileobj=io.BytesIO(first)).extractfile(manifest["Layers"][0]).read()).hexdigest()
    assert config["rootfs"]["diff_ids"] == [f"sha256:{digest}"]


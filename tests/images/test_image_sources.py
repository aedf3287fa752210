"""hack/images without building: which images `make images` builds, and where git-sync's source
comes from when neither the Go module proxy nor GitHub serves it (hack/images/git-sync.sh)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.lib.paths import REPO

BUILD = REPO / "hack" / "images" / "build.sh"
GIT_SYNC = REPO / "hack" / "images" / "git-sync.sh"


def git_sync(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """git-sync.sh with an empty cache of its own (so nothing is 'already built'), no GOPROXY
    answer it can use, and GitHub unreachable by name: only GIT_SYNC_SOURCE can help."""
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "GOPROXY": "off", "GOFLAGS": "", "GOPATH": str(tmp_path / "go"), "GOCACHE": str(tmp_path / "gocache"),
            "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"),
            # Rewrites GitHub's URL to a path that does not exist: the upstream clone fails as offline.
            "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"url.{tmp_path}/no-github/.insteadOf",
            "GIT_CONFIG_VALUE_0": "https://github.com/"}  # fmt: skip
    return subprocess.run([str(GIT_SYNC)], env={**base, **env}, capture_output=True, text=True, timeout=120)


def tarball(tmp_path: Path, with_vendor: bool = True) -> Path:
    src = tmp_path / "src" / "git-sync"
    (src / "vendor").mkdir(parents=True) if with_vendor else src.mkdir(parents=True)
    (src / "main.go").write_text("package main\n")
    path = tmp_path / "git-sync-test.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src, arcname="git-sync")
    return path


def test_make_images_builds_only_what_values_dev_runs_by_default():
    text = BUILD.read_text()
    assert 'DEV_IMAGES=(airflow task-example postgresql)' in text
    images = {line.split(":", 1)[1].split()[0] for line in (REPO / "values" / "dev.yaml").read_text().splitlines()
              if line.strip().startswith("repository:")}  # fmt: skip
    assert not any("git" in image for image in images), "dev.yaml runs a git image: add it to DEV_IMAGES"


@pytest.mark.parametrize("args", [["--push"], ["git-synk"], ["airflow", "nope"]])
def test_make_images_refuses_an_unknown_image_with_the_names_it_knows(args):
    proc = subprocess.run([str(BUILD), *args], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: hack/images/build.sh") and "git-sync" in proc.stderr and "all" in proc.stderr


def test_git_sync_source_tarball_with_a_wrong_sha256_is_refused_saying_both_sums(tmp_path):
    source = tarball(tmp_path)
    proc = git_sync(tmp_path, GIT_SYNC_SOURCE=str(source), GIT_SYNC_SOURCE_SHA256="0" * 64)
    assert proc.returncode == 1
    got = hashlib.sha256(source.read_bytes()).hexdigest()
    assert f"sha256 {got}, expected {'0' * 64}" in proc.stderr, proc.stderr
    assert "Fix: set GIT_SYNC_SOURCE" in proc.stderr


def test_git_sync_source_sha256_file_beside_the_tarball_is_checked(tmp_path):
    source = tarball(tmp_path)
    Path(f"{source}.sha256").write_text(f"{'1' * 64}  {source.name}\n")
    proc = git_sync(tmp_path, GIT_SYNC_SOURCE=str(source))
    assert proc.returncode == 1 and f"expected {'1' * 64}" in proc.stderr, proc.stderr


def test_git_sync_source_without_vendor_is_refused_before_any_build(tmp_path):
    proc = git_sync(tmp_path, GIT_SYNC_SOURCE=str(tarball(tmp_path, with_vendor=False)))
    assert proc.returncode == 1 and "no git-sync source with vendor/ inside" in proc.stderr, proc.stderr


def test_every_source_failing_lists_each_attempt_and_the_fix(tmp_path):
    proc = git_sync(tmp_path, GIT_SYNC_SOURCE=str(tmp_path / "missing.tar.gz"))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("git-sync: cannot get the source of git-sync v")
    attempts = [line for line in lines if line.startswith("  - ")]
    assert [a.split()[1] for a in attempts] == ["the", f"GIT_SYNC_SOURCE={tmp_path}/missing.tar.gz:", "git"], attempts
    assert "Traceback" not in proc.stderr


def test_git_sync_source_from_a_local_clone_with_the_tag(tmp_path):
    # A git URL or clone in GIT_SYNC_SOURCE: the tag is cloned from it (here a repo made on the spot,
    # whose "source" the Go build then rejects; what matters is where the source came from).
    version = subprocess.run([str(GIT_SYNC), "--print-version"], capture_output=True, text=True, check=True).stdout.strip()
    repo = tmp_path / "clone"
    env = {**os.environ, "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    for args in (["init", "-q", str(repo)], ["-C", str(repo), "commit", "-q", "--allow-empty", "-m", "x"],
                 ["-C", str(repo), "tag", version]):  # fmt: skip
        subprocess.run(["git", *args], env=env, check=True)
    proc = git_sync(tmp_path, GIT_SYNC_SOURCE=str(repo))
    assert f"git-sync: source {version} cloned from {repo}" in proc.stdout, proc.stdout + proc.stderr

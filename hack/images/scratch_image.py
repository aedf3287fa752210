"""Write a single-layer image holding one static binary, as a docker-archive tarball (stdlib only).

Usage: python3 hack/images/scratch_image.py OUT.tar NAME:TAG BINARY [--user UID:GID] [--path DIRS] [-- ENTRYPOINT ARGS...]

The real node's pause and CoreDNS images are nothing but a static binary, so they are assembled
directly instead of through a Docker daemon: `make cluster-up` needs no image builder. The archive
is what `docker save` writes (manifest.json, the config, the layer), which `ctr images import` and
`docker load` both read. Byte-for-byte reproducible: fixed owners, modes and timestamps.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

EPOCH = 0  # every timestamp, so the same binary always gives the same image


def layer_tar(binary: Path, name: str) -> bytes:
    """One layer with /<name> (mode 0755, root-owned) and an empty /tmp."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tmp = tarfile.TarInfo("tmp")
        tmp.type, tmp.mode, tmp.mtime = tarfile.DIRTYPE, 0o1777, EPOCH
        tar.addfile(tmp)
        data = binary.read_bytes()
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o755, EPOCH
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def image_archive(binary: Path, tag: str, user: str, entrypoint: list[str], path: str = "") -> bytes:
    name = binary.name
    layer = layer_tar(binary, name)
    diff_id = hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {
            "User": user,
            "Entrypoint": entrypoint or [f"/{name}"],
            "WorkingDir": "/",
            # A PATH lets a pod's command name the binary (kubeadm's static pods say `kube-apiserver`).
            **({"Env": [f"PATH={path}"]} if path else {}),
        },
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": f"hack/images/scratch_image.py {name}"}],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_name = f"{hashlib.sha256(config_bytes).hexdigest()}.json"
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": [f"{diff_id}/layer.tar"]}]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for member, data in (
            (config_name, config_bytes),
            (f"{diff_id}/layer.tar", layer),
            ("manifest.json", json.dumps(manifest).encode()),
        ):
            info = tarfile.TarInfo(member)
            info.size, info.mode, info.mtime = len(data), 0o644, EPOCH
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def main(argv: list[str]) -> int:
    entrypoint: list[str] = []
    if "--" in argv:
        entrypoint = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("tag", help="NAME:TAG, e.g. airflow-on-k8s/pause:3.10")
    parser.add_argument("binary", type=Path)
    parser.add_argument("--user", default="65535:65535")
    parser.add_argument("--path", default="", help="the image's PATH, e.g. / for a command given by name")
    args = parser.parse_args(argv)
    if ":" not in args.tag.rsplit("/", 1)[-1]:
        parser.error(f"the tag must be NAME:TAG, got {args.tag!r}")
    if not args.binary.is_file():
        parser.error(f"{args.binary} is not a file: build it first (hack/cluster/build.sh)")
    args.out.write_bytes(image_archive(args.binary, args.tag, args.user, entrypoint, args.path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

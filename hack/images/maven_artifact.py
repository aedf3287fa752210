"""Download one artifact from a Maven repository, checked: `python3 maven_artifact.py URL DEST SHA256`.

Writes URL to DEST only when its SHA-256 is SHA256 (the pin) and its SHA-1 is the one the repository
publishes beside it (URL.sha1). Standard library only, so a fresh machine needs nothing but python3
(no curl); proxies and CA settings come from the environment, as urllib reads them. Exits 1 with one
line saying what went wrong and what to check.
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.request
from pathlib import Path

CHUNK = 1 << 20


def fetch(url: str, dest: Path) -> tuple[str, str]:
    """Stream `url` into `dest`; (its SHA-256, its SHA-1)."""
    sha256, sha1 = hashlib.sha256(), hashlib.sha1()  # noqa: S324 - compared with the repository's own .sha1
    with urllib.request.urlopen(url, timeout=60) as response, dest.open("wb") as out:
        while chunk := response.read(CHUNK):
            sha256.update(chunk)
            sha1.update(chunk)
            out.write(chunk)
    return sha256.hexdigest(), sha1.hexdigest()


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: maven_artifact.py URL DEST SHA256", file=sys.stderr)
        return 2
    url, dest, pinned = argv[0], Path(argv[1]), argv[2].lower()
    part = dest.with_name(dest.name + ".part")
    try:
        sha256, sha1 = fetch(url, part)
        with urllib.request.urlopen(url + ".sha1", timeout=60) as response:
            published = response.read().decode().split()[0].lower()
    except OSError as error:
        part.unlink(missing_ok=True)
        print(f"could not download {url}: {error}; check that the repository (or MAVEN_REPOSITORY) is reachable",
              file=sys.stderr)  # fmt: skip
        return 1
    if sha256 != pinned:
        part.unlink()
        print(f"{url} has SHA-256 {sha256}, not the pinned {pinned}: a changed or corrupted download", file=sys.stderr)
        return 1
    if sha1 != published:
        part.unlink()
        print(f"{url} does not match the repository's own .sha1 ({published})", file=sys.stderr)
        return 1
    os.replace(part, dest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

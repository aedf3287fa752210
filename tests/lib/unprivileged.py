"""Run the repo's scripts as a user who is not root, for real, whoever runs the tests.

As root the scripts run under `setpriv` as uid/gid 65534 (nobody), from a copy of the repo's
subtrees they need in a fresh directory every user may enter: the checkout itself may sit where only
root can (a clone under /root, mode 700), and nobody could not even reach the script there. Not
root, they run from the checkout as they are, already unprivileged.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.lib.paths import REPO

NOBODY = 65534


@dataclass(frozen=True)
class Unprivileged:
    root: Path  # where the scripts are, laid out as in the repo
    home: Path  # a HOME the user may write
    prefix: tuple[str, ...]  # what runs a command as the user

    def command(self, script: str, *args: str) -> list[str]:
        """`script` (a path relative to the repo) with `args`, run as the unprivileged user."""
        return [*self.prefix, str(self.root / script), *args]


@contextlib.contextmanager
def unprivileged(*subtrees: str) -> Iterator[Unprivileged]:
    """The user to run scripts as, and where `subtrees` (paths relative to the repo: the scripts and
    what they source or call) are for that user. Skips the test when root cannot switch users."""
    with tempfile.TemporaryDirectory(prefix="unprivileged-") as scratch:
        base = Path(scratch)
        home = base / "home"
        home.mkdir()
        if os.geteuid() != 0:
            yield Unprivileged(REPO, home, ())
            return
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot run the scripts as an unprivileged user")
        root = base / "repo"
        for subtree in subtrees:
            source, copy = REPO / subtree, root / subtree
            copy.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, copy, symlinks=True)
            else:
                shutil.copy2(source, copy)
        # Readable (and scripts runnable) by everyone, the way a checkout under a world-readable
        # directory would be; the scratch directory and HOME are the user's to enter and write.
        for path in [root, *root.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
                           | (stat.S_IXGRP | stat.S_IXOTH if path.is_dir() or path.stat().st_mode & stat.S_IXUSR else 0))  # fmt: skip
        base.chmod(0o755)
        home.chmod(0o777)
        yield Unprivileged(root, home, ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"))

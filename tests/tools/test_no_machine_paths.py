"""No path of the machine the repository was written on: not the user's home, not the folder the
clone sits in. Paths outside the repository come from the environment (GIT_SYNC_SOURCE, PYENV_ROOT,
XDG_CACHE_HOME...), so a clone works wherever it is and on any machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.lib.paths import REPO

# Folders every Linux machine has, which scripts and Dockerfiles name on purpose: a clone placed
# right in one (`git clone ... /tmp/fresh`) does not make them paths of this machine.
EVERY_MACHINES = {"/tmp/", "/var/tmp/"}


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    return [REPO / n.decode() for n in names if n and (REPO / n.decode()).is_file()]


def test_no_tracked_file_names_this_machines_home_or_the_clones_folder():
    machine_paths = {str(Path.home()) + "/", str(REPO.parent) + "/"} - {"//"} - EVERY_MACHINES
    found = []
    for path in tracked_text_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        found += [f"{path.relative_to(REPO)}: {m}" for m in machine_paths if m in text]
    assert not found, "paths of this machine in the repository (take them from the environment):\n" + "\n".join(found)

"""hack/setup.sh refuses a missing or too-old Python with one line that says what to do."""

from __future__ import annotations

import glob
import os
import subprocess

import pytest

from tests.lib.paths import REPO

SETUP = REPO / "hack" / "setup.sh"


def run_setup(python: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHON": python})


def test_missing_python_is_named():
    proc = run_setup("python3-that-does-not-exist")
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("setup: no 'python3-that-does-not-exist' on PATH: install Python 3.11 or newer, "
                                   "or run with PYTHON=/path/to/python3.11")


# Pythons older than 3.11 this machine may have: pyenv's (PYENV_ROOT, else ~/.pyenv) and the system's.
PYENV_ROOT = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
OLD_PYTHONS = sorted(glob.glob(os.path.join(PYENV_ROOT, "versions", "3.10.*", "bin", "python3"))
                     + glob.glob("/usr/bin/python3.[0-9]"))  # fmt: skip


@pytest.mark.skipif(not OLD_PYTHONS, reason="no Python older than 3.11 on this machine to try setup with")
def test_too_old_python_is_refused():
    old = OLD_PYTHONS[0]
    version = subprocess.run([old, "-V"], capture_output=True, text=True).stdout.strip()
    if not version.startswith(("Python 3.10", "Python 3.9", "Python 3.8")):
        pytest.skip(f"{old} is {version}, not older than 3.11")
    proc = run_setup(old)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith(f"setup: Python 3.11 or newer is needed, {old} is {version}")

"""Run checkov's Kubernetes checks over manifests on disk and group the results by top-level folder.

checkov lives in its own venv (.tools/checkov, installed by hack/install-checkov.sh from the hashed
lock requirements/checkov.txt) because its pins conflict with Airflow's. Its start-up costs seconds,
so callers write one folder per scenario and scan them all in one run.
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tests.lib.paths import REPO

CHECKOV = REPO / ".tools" / "checkov" / "bin" / "checkov"
CONFIG = REPO / "hack" / "checkov" / "config.yaml"


class CheckovMissingError(RuntimeError):
    pass


@dataclass
class FolderResult:
    passed: int = 0
    failed: list[str] = field(default_factory=list)  # "CKV_K8S_20 Pod.airflow.x: <check name>"


def run(root: Path, timeout: int = 600) -> dict[str, FolderResult]:
    """Scan every YAML under `root`; results keyed by the first folder below `root`."""
    if not CHECKOV.exists():
        raise CheckovMissingError(f"{CHECKOV} is missing: run hack/install-checkov.sh (CI must run it too)")
    proc = subprocess.run(
        [str(CHECKOV), "--config-file", str(CONFIG), "--directory", str(root), "--output", "json"],
        capture_output=True, text=True, timeout=timeout, cwd=root,
    )
    # Exit 1 only means "some check failed"; anything else, or no JSON, is checkov itself failing.
    if proc.returncode not in (0, 1) or not proc.stdout.strip().startswith(("{", "[")):
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"checkov exited {proc.returncode}: {tail}")
    reports = json.loads(proc.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    by_folder: dict[str, FolderResult] = defaultdict(FolderResult)
    for report in reports:
        if report.get("check_type") != "kubernetes":
            continue
        results = report.get("results") or {}
        for check in results.get("passed_checks") or []:
            by_folder[_folder(check)].passed += 1
        for check in results.get("failed_checks") or []:
            by_folder[_folder(check)].failed.append(
                f"{check['check_id']} {check['resource']} ({check['file_path'].lstrip('/')}): {check['check_name']}")
    return dict(by_folder)


def _folder(check: dict) -> str:
    return Path(check["file_path"].lstrip("/")).parts[0]

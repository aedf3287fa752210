"""ruff's Airflow rules: silent on the bundle, and they do catch the seed's Airflow 1.10 code.

Runs the real ruff with the repository's ruff.toml (so the AIR selection there is what is tested).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.lib.paths import DAGS, REPO

FIXTURE = Path(__file__).parent / "fixtures" / "seed_airflow_1_10.py"


def ruff(*args: str) -> list[dict]:
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "json", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def test_the_bundle_passes_every_configured_rule():
    found = ruff(str(DAGS))
    assert found == [], "\n".join(f"{d['filename']}:{d['location']['row']} {d['code']} {d['message']}" for d in found)


def test_air_rules_fire_on_the_seeds_original_dag():
    found = {(d["code"], d["location"]["row"]) for d in ruff(str(FIXTURE)) if d["code"].startswith("AIR")}
    source = FIXTURE.read_text().splitlines()

    def line_of(text: str) -> int:
        return next(i for i, line in enumerate(source, start=1) if text in line)

    assert ("AIR301", line_of("schedule_interval=")) in found  # removed argument
    assert ("AIR302", line_of("DummyOperator(")) in found  # moved to the standard provider
    assert ("AIR302", line_of("Secret(")) in found  # moved to the cncf.kubernetes provider
    assert ("AIR302", line_of("Resources()")) in found


def test_the_fixture_is_excluded_from_normal_lint():
    """`ruff check tests` (what the lint target does) must not trip over the deliberately old fixture."""
    assert [d for d in ruff(str(FIXTURE.parent.parent)) if d["filename"] == str(FIXTURE)] == []

"""hack/checkov/config.yaml: every skipped check carries its reason, and the skips are few and known."""

from __future__ import annotations

import re

import yaml

from lib.checkov import CONFIG

SKIP_LINE = re.compile(r"^\s*-\s*(CKV2?_K8S_\d+)\s*(?:#\s*(.*))?$")
MIN_REASON_WORDS = 8


def _skip_lines() -> dict[str, str]:
    """check id -> the comment on its line, read from the raw text (YAML drops comments)."""
    lines, in_skips = {}, False
    for line in CONFIG.read_text().splitlines():
        if line.startswith("skip-check:"):
            in_skips = True
            continue
        if in_skips and line and not line.startswith((" ", "-", "#")):
            in_skips = False
        match = SKIP_LINE.match(line) if in_skips else None
        if match:
            lines[match.group(1)] = (match.group(2) or "").strip()
    return lines


def test_config_parses_and_limits_checkov_to_kubernetes():
    config = yaml.safe_load(CONFIG.read_text())
    assert config["framework"] == ["kubernetes"]
    assert config["skip-download"] is True
    assert sorted(config["skip-check"]) == sorted(_skip_lines())


def test_every_skip_is_justified():
    unjustified = {check: reason for check, reason in _skip_lines().items()
                   if len(reason.split()) < MIN_REASON_WORDS}
    assert not unjustified, f"skipped checks need a reason of {MIN_REASON_WORDS}+ words in {CONFIG}: {unjustified}"

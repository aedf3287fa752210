"""hack/checkov/config.yaml: every skipped check carries its reason, and checkov is limited to Kubernetes."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.lib.conformance import checkov

SKIP_ENTRY = re.compile(r"^\s*-\s*(CKV2?_K8S_\d+)\s*$")
MIN_REASON_WORDS = 8


def _reasons() -> dict[str, str]:
    """check id -> the comment lines right above its entry (YAML parsers drop comments, so read the text)."""
    reasons, comment, in_skips = {}, [], False
    for line in checkov.CONFIG.read_text().splitlines():
        stripped = line.strip()
        if line.startswith("skip-check:"):
            in_skips, comment = True, []
        elif in_skips and stripped.startswith("#"):
            comment.append(stripped.lstrip("# "))
        elif in_skips and SKIP_ENTRY.match(line):
            reasons[SKIP_ENTRY.match(line).group(1)] = " ".join(comment)
            comment = []
        elif line and not line.startswith(" "):
            in_skips = False
    return reasons


def test_config_parses_and_limits_checkov_to_kubernetes():
    config = yaml.safe_load(checkov.CONFIG.read_text())
    assert config["framework"] == ["kubernetes"]
    assert config["skip-download"] is True
    assert sorted(config["skip-check"]) == sorted(_reasons())


def test_every_skip_is_justified():
    unjustified = {check: reason for check, reason in _reasons().items() if len(reason.split()) < MIN_REASON_WORDS}
    assert not unjustified, f"give each skipped check a reason of {MIN_REASON_WORDS}+ words above it: {unjustified}"


def test_missing_checkov_is_an_error_not_a_skip(monkeypatch, tmp_path):
    monkeypatch.setattr(checkov, "CHECKOV", tmp_path / "no-checkov")
    with pytest.raises(checkov.CheckovMissingError, match="hack/install-checkov.sh"):
        checkov.run(tmp_path)

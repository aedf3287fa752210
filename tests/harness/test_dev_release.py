"""tests.lib.cluster.dev_release without a cluster: when the user's dev release is paused, and how a run that was
killed before restoring it is recovered."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.lib.cluster import dev_release
from tests.lib.cluster.target import ClusterTarget


@pytest.mark.parametrize(("quantity", "cores"), [("2", 2.0), ("1500m", 1.5), ("250m", 0.25), ("0.5", 0.5)])
def test_cpu_quantities_read_as_cores(quantity: str, cores: float) -> None:
    assert dev_release.cpu_cores(quantity) == cores


def test_a_wrong_choice_is_refused_naming_the_variable_and_its_values() -> None:
    unreachable = ClusterTarget(kubeconfig=Path("/nonexistent"), simulated=False)
    with pytest.raises(ValueError, match=r"E2E_DEV_RELEASE is 'yes': set it to keep or pause"):
        dev_release.why_pause(unreachable, "yes")


def test_keep_never_asks_the_cluster() -> None:
    unreachable = ClusterTarget(kubeconfig=Path("/nonexistent"), simulated=False)
    assert dev_release.why_pause(unreachable, "keep") is None


def test_restore_without_a_marker_does_nothing(tmp_path: Path) -> None:
    assert dev_release.restore(tmp_path / "none.json") == []


def test_a_marker_of_a_cluster_that_is_gone_is_dropped(tmp_path: Path) -> None:
    """A run killed while the release was paused, then `make cluster-down`: nothing to bring back."""
    marker = tmp_path / "paused.json"
    marker.write_text(json.dumps({"kubeconfig": str(tmp_path / "gone.yaml"), "reason": "test"}))
    assert dev_release.restore(marker) == []
    assert not marker.exists()


def test_a_run_ending_while_the_pausing_run_goes_on_leaves_the_release_paused(tmp_path: Path) -> None:
    """An offline run beside an e2e run: its end must not bring the release back under the e2e tests."""
    marker = tmp_path / "paused.json"
    with subprocess.Popen(["sleep", "30"]) as pausing:
        try:
            marker.write_text(json.dumps({"kubeconfig": str(tmp_path / "gone.yaml"), "reason": "test",
                                          "paused_by": [pausing.pid, 1]}))  # fmt: skip
            assert dev_release.restore(marker) == []
            assert marker.exists()
        finally:
            pausing.kill()
    assert dev_release.restore(marker) == []  # the pausing run is gone: the marker is handled
    assert not marker.exists()

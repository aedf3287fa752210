"""Chart.yaml: what Helm and Artifact Hub read."""

from __future__ import annotations

import yaml

from tests.lib.paths import CHART


class TestChartMetadata:
    def test_versions(self):
        chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
        assert chart["apiVersion"] == "v2"
        assert chart["appVersion"] == "3.3.2"
        assert chart["kubeVersion"] == ">=1.30.0-0"
        assert chart["type"] == "application"

    def test_artifact_hub_images_match_the_default_values(self):
        chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
        values = yaml.safe_load((CHART / "values.yaml").read_text())
        listed = {i["image"] for i in yaml.safe_load(chart["annotations"]["artifacthub.io/images"])}
        defaults = {f"{i['repository']}:{i['tag']}" for i in values["images"].values()}
        assert listed == defaults
        assert chart["annotations"]["artifacthub.io/license"] == "Apache-2.0"
        assert values["images"]["airflow"]["tag"] == chart["appVersion"]

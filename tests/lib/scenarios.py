"""The values scenarios the whole suite renders. Each is rendered once per run (see render.py).

Add a scenario here when a chart option is added, so chart tests, the scan and benchmarks all see it.
"""

from __future__ import annotations

from .paths import VALUES_DIR
from .render import Scenario

DEFAULT = Scenario.of("default")
DEV = Scenario.of("dev", files=[VALUES_DIR / "dev.yaml"])
PROD = Scenario.of("prod", files=[VALUES_DIR / "prod.yaml"])

GITSYNC_HTTPS = Scenario.of("gitsync-https", {
    "dags": {"gitSync": {"enabled": True, "repo": "https://git.example.com/org/dags.git",
                         "branch": "main", "subPath": "dags", "credentialsSecret": "git-credentials"}},
})
GITSYNC_SSH = Scenario.of("gitsync-ssh", {
    "dags": {"gitSync": {"enabled": True, "repo": "git@git.example.com:org/dags.git",
                         "branch": "main", "subPath": "dags", "sshKeySecret": "git-ssh-key"}},
})
EXTERNAL_DB = Scenario.of("external-db", {
    "postgresql": {"enabled": False},
    "data": {"metadataSecretName": "airflow-metadata-db"},
})
PVC_DAGS = Scenario.of("pvc-dags", {"dags": {"persistence": {"enabled": True}}})
NETWORK_POLICIES = Scenario.of("network-policies", {"networkPolicies": {"enabled": True}})
MULTI_NAMESPACE = Scenario.of("multi-namespace", {"rbac": {"podLaunchNamespaces": ["airflow", "development", "batch"]}})
REPLICATED = Scenario.of("replicated", {"scheduler": {"replicas": 2}, "apiServer": {"replicas": 2}})

OPTION_SCENARIOS = [GITSYNC_HTTPS, GITSYNC_SSH, EXTERNAL_DB, PVC_DAGS, NETWORK_POLICIES, MULTI_NAMESPACE, REPLICATED]
ALL = [DEFAULT, DEV, PROD, *OPTION_SCENARIOS]

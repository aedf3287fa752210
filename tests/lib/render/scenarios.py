"""The values scenarios the whole suite renders. Each is rendered once per run (see helm_template.py).

Add a scenario here when a chart option is added, so chart tests, the scan and benchmarks all see it.
"""

from __future__ import annotations

from tests.lib.paths import VALUES_DIR
from tests.lib.render.helm_template import Scenario

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
# Airflow's own GitDagBundle instead of git-sync: https with a token and a private CA.
GITBUNDLE_HTTPS = Scenario.of("gitbundle-https", {
    "dags": {"gitBundle": {"enabled": True, "repo": "https://git.internal.example/org/dags.git",
                           "branch": "main", "subPath": "dags", "refreshInterval": 30,
                           "credentialsSecret": "git-credentials", "caCertConfigMap": "git-ca"}},
})
EXTERNAL_DB = Scenario.of("external-db", {
    "postgresql": {"enabled": False},
    "data": {"metadataSecretName": "airflow-metadata-db"},
})
# A managed database that requires TLS: its server certificate checked against a private CA.
DATABASE_TLS = Scenario.of("database-tls", {
    "postgresql": {"enabled": False},
    "data": {"metadataSecretName": "airflow-metadata-db", "tls": {"mode": "verify-full", "caCertConfigMap": "airflow-metadata-db-ca"}},
})
PVC_DAGS = Scenario.of("pvc-dags", {"dags": {"persistence": {"enabled": True}}})
NETWORK_POLICIES = Scenario.of("network-policies", {"networkPolicies": {"enabled": True}})
MULTI_NAMESPACE = Scenario.of("multi-namespace", {"rbac": {"podLaunchNamespaces": ["development", "batch"]}})
REPLICATED = Scenario.of("replicated", {"scheduler": {"replicas": 2}, "apiServer": {"replicas": 2}})

OPTION_SCENARIOS = [GITSYNC_HTTPS, GITSYNC_SSH, GITBUNDLE_HTTPS, EXTERNAL_DB, PVC_DAGS, NETWORK_POLICIES, MULTI_NAMESPACE, REPLICATED]
ALL = [DEFAULT, DEV, PROD, *OPTION_SCENARIOS]

# Option branches only the chart tests need (tests/chart). The scan gates cover ALL above; add a
# scenario there instead when it changes security-relevant output (and extend expected-rbac.yaml).
GITSYNC_SSH_KNOWN_HOSTS = Scenario.of("gitsync-ssh-known-hosts", {
    "dags": {"gitSync": {"enabled": True, "repo": "ssh://git@git.example.com/org/dags.git", "rev": "v1.2.0",
                         "sshKeySecret": "git-ssh-key",
                         "knownHosts": "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnly"}},
})
GITSYNC_PRIVATE_CA = Scenario.of("gitsync-private-ca", {
    "dags": {"gitSync": {"enabled": True, "repo": "https://git.internal.example/org/dags.git",
                         "credentialsSecret": "git-credentials", "caCertConfigMap": "git-ca"}},
})
GITBUNDLE_SSH_KNOWN_HOSTS = Scenario.of("gitbundle-ssh-known-hosts", {
    "dags": {"gitBundle": {"enabled": True, "name": "team-dags", "repo": "git@git.example.com:org/dags.git",
                           "sshKeySecret": "git-ssh-key",
                           "knownHosts": "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnly"}},
})
EXISTING_SECRETS = Scenario.of("existing-secrets", {
    "fernetKeySecretName": "my-fernet", "jwtSecretName": "my-jwt", "apiSecretKeySecretName": "my-api-key",
    "auth": {"simple": {"passwordsSecretName": "my-ui-passwords"}},
})
CUSTOM_AUTH = Scenario.of("custom-auth", {
    "auth": {"manager": "custom"},
    "config": {"core": {"auth_manager": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"}},
})
# Sign-in through an OpenID Connect provider on a private CA (templates/_auth.tpl, files/fab_oidc.py).
FAB_OIDC = Scenario.of("fab-oidc", {"auth": {"manager": "fab", "fab": {"oidc": {
    "issuer": "https://idp.example.com/realms/airflow", "clientId": "airflow",
    "clientSecret": {"secretName": "airflow-oidc"}, "scopes": ["openid", "email", "profile"],
    "roleMapping": {"airflow-admins": ["Admin"], "airflow-viewers": ["Viewer"]},
    "caBundle": {"configMapName": "idp-ca"}}}},
    "networkPolicies": {"enabled": True, "egress": {"enabled": True, "identityProvider": {
        "peers": [{"ipBlock": {"cidr": "192.0.2.10/32"}}], "ports": [8443]}}}})
NO_RBAC = Scenario.of("no-rbac", {"rbac": {"create": False}, "serviceAccounts": {"create": False}})
API_SERVER_PEERS = Scenario.of("api-server-peers", {"networkPolicies": {
    "enabled": True,
    "apiServerIngressFrom": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}],
}})

LOGS_PVC = Scenario.of("logs-pvc", {"logs": {"persistence": {"enabled": True}}})
# The embedded PostgreSQL's data on an emptyDir (as the e2e tests install it, tests/lib/installs/release.py).
POSTGRESQL_NO_VOLUME = Scenario.of("postgresql-no-volume", {"postgresql": {"persistence": {"enabled": False}}})
# Task logs in an S3-compatible store other than AWS, its keys in a Secret (values/prod.yaml has AWS S3).
REMOTE_LOGS_S3_COMPATIBLE = Scenario.of("remote-logs-s3-compatible", {"logs": {"remote": {
    "enabled": True, "baseLogFolder": "s3://airflow-logs/team-a/",
    "s3": {"credentialsSecret": "airflow-remote-logs", "endpointUrl": "http://s3.storage.svc:7070", "addressingStyle": "path"},
}}})
# The pods' own AWS identity (IRSA): no Secret, no key anywhere.
REMOTE_LOGS_POD_IDENTITY = Scenario.of("remote-logs-pod-identity", {"logs": {"remote": {
    "enabled": True, "baseLogFolder": "s3://airflow-logs", "connectionId": "logs_s3", "s3": {"region": "eu-west-1"},
}}})
# Asymmetric JWT signing keys, as values/prod.yaml sets them (prod carries them through the scan gates).
JWT_KEYS = Scenario.of("jwt-keys", {"jwt": {"keys": {"secretName": "airflow-jwt-keys", "signingKey": "2026-12"}}})

# Metrics for the Prometheus Operator: its ServiceMonitor and the starter alerts (values/prod.yaml
# turns metrics on without them: its cluster is not taken to run the operator).
METRICS_OPERATOR = Scenario.of("metrics-operator", {"metrics": {
    "enabled": True, "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
    "prometheusRule": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
}}, api_versions=["monitoring.coreos.com/v1"])

EXTRA_ENV = Scenario.of("extra-env", {
    "extraEnv": [{"name": "AIRFLOW_CONN_LOGS", "valueFrom": {"secretKeyRef": {"name": "logs-connection", "key": "uri"}}}],
    "extraEnvFrom": [{"configMapRef": {"name": "airflow-extra-settings"}}],
    "workers": {"extraEnvFrom": [{"secretRef": {"name": "task-credentials"}}]},
})

INGRESS = Scenario.of("ingress", {"apiServer": {"ingress": {
    "enabled": True, "className": "nginx", "host": "airflow.example.com", "tlsSecretName": "airflow-tls"}}})

# The api-server reached at a sub-path of several hosts (one without TLS), a controller's redirect path
# first, and through a Gateway API HTTPRoute too (tests/chart/test_api_server.py).
INGRESS_HOSTS_AND_ROUTE = Scenario.of("ingress-hosts-and-route", {"apiServer": {
    "ingress": {"enabled": True, "host": "airflow.example.com", "tlsSecretName": "airflow-tls", "path": "/airflow",
                "extraHosts": [{"name": "airflow.internal.example", "tlsSecretName": "internal-tls"}, {"name": "airflow.lan"}],
                "extraPaths": [{"path": "/redirect", "pathType": "Exact",
                                "backend": {"service": {"name": "ssl-redirect", "port": {"name": "use-annotation"}}}}]},
    "httpRoute": {"enabled": True, "parentRefs": [{"name": "shared-gateway", "namespace": "gateway-system", "sectionName": "https"}],
                  "hostnames": ["airflow.example.com"], "labels": {"gateway": "shared"}},
}}, api_versions=["gateway.networking.k8s.io/v1"])

SERVICE_ACCOUNT_NAMES = Scenario.of("service-account-names", {
    "rbac": {"podLaunchNamespaces": ["development"]},
    "serviceAccounts": {"workers": {"name": "etl-runner", "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/etl"}},
                        "scheduler": {"name": "airflow-scheduler-sa"}},
})
# The same release name as every other scenario, in another namespace, launching into the same
# `development`: its Roles there must not be the `airflow` namespace release's.
TEAM_B = Scenario.of("team-b", {"rbac": {"podLaunchNamespaces": ["development"]}}, namespace="team-b")
# A release whose DAGs still launch beside it (moved over from a chart that did), accepting the risk.
UNSAFE_RELEASE_NAMESPACE = Scenario.of("unsafe-release-namespace", {
    "rbac": {"podLaunchNamespaces": ["airflow", "development"], "unsafeLaunchInReleaseNamespace": True}})

# Every pod-level value a platform team sets (tests/chart/test_pod_settings.py): global ones, one
# component overriding a scheduling value, per-component env, volumes, sidecars and security contexts.
# Metrics, git-sync and a `helm test` pod make every kind of pod the chart has.
SIDECAR_RESOURCES = {"requests": {"cpu": "10m", "memory": "32Mi", "ephemeral-storage": "16Mi"},
                     "limits": {"cpu": "100m", "memory": "64Mi", "ephemeral-storage": "64Mi"}}
POD_SETTINGS = Scenario.of("pod-settings", {
    "metrics": {"enabled": True},
    "dags": {"gitSync": {"enabled": True, "repo": "https://git.example.com/dags.git"}},
    "labels": {"example.com/team": "data-platform"},
    "podAnnotations": {"example.com/scraped-by": "agent"},
    "nodeSelector": {"example.com/pool": "airflow"},
    "tolerations": [{"key": "example.com/dedicated", "operator": "Equal", "value": "airflow", "effect": "NoSchedule"}],
    "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "preference": {"matchExpressions": [{"key": "example.com/ssd", "operator": "Exists"}]}}]}},
    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway"}],
    "priorityClassName": "airflow-normal",
    "securityContexts": {"pod": {"runAsUser": 1000650000, "fsGroup": None}},
    "scheduler": {
        "tolerations": [{"key": "example.com/scheduler-only", "operator": "Exists", "effect": "NoSchedule"}],
        "priorityClassName": "airflow-critical",
        "labels": {"example.com/tier": "control"},
        "podAnnotations": {"example.com/sidecar-inject": "true"},
        "securityContexts": {"container": {"seLinuxOptions": {"level": "s0:c123,c456"}}},
        "extraEnv": [{"name": "SCHEDULER_ONLY_TOKEN", "valueFrom": {"secretKeyRef": {"name": "scheduler-token", "key": "token"}}}],
        "extraVolumes": [{"name": "ca-bundle", "configMap": {"name": "{{ .Release.Name }}-ca-bundle"}}],
        "extraVolumeMounts": [{"name": "ca-bundle", "mountPath": "/etc/ssl/example", "readOnly": True}],
        "extraContainers": [{"name": "log-shipper", "image": "example.com/shipper:1.0", "resources": SIDECAR_RESOURCES,
                             "livenessProbe": {"httpGet": {"path": "/health", "port": 2020}}}],
        "extraInitContainers": [{"name": "fetch-certs", "image": "example.com/certs:1.0", "resources": SIDECAR_RESOURCES}],
    },
    "workers": {
        "podAnnotations": {"karpenter.sh/do-not-disrupt": "true"},
        "labels": {"example.com/workload": "task"},
        "extraVolumes": [{"name": "task-secret", "secret": {"secretName": "task-secret"}}],
        "extraVolumeMounts": [{"name": "task-secret", "mountPath": "/etc/task-secret", "readOnly": True}],
    },
    "postgresql": {"securityContexts": {"pod": {"runAsUser": None}}},
})

# What a platform team adds around the pods (tests/chart/test_platform_objects.py): its own manifests,
# disruption budgets of its choosing, a LoadBalancer Service, and airflow.cfg values that name the release.
PLATFORM_OBJECTS = Scenario.of("platform-objects", {
    "extraObjects": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "{{ .Release.Name }}-ca-bundle"},
         "data": {"ca.crt": "-----BEGIN CERTIFICATE-----"}},
        "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: {{ .Release.Name }}-critical\nvalue: 1000\n",
    ],
    "scheduler": {"replicas": 2, "podDisruptionBudget": {"config": {"minAvailable": "50%"}}},
    "apiServer": {"replicas": 2, "podDisruptionBudget": {"enabled": False},
                  "service": {"type": "LoadBalancer", "annotations": {"example.com/lb-scheme": "internal"},
                              "loadBalancerSourceRanges": ["10.0.0.0/8"]}},
    "config": {"api": {"instance_name": "{{ .Release.Name }} in {{ .Release.Namespace }}"},
               "logging": {"log_filename_template": "dag_id={{ ti.dag_id }}/attempt={{ try_number }}.log"}},
})

# Airflow's own hooks from values (tests/chart/test_local_settings.py): a cluster policy for every
# Airflow container and worker pod, and the api-server's webserver_config.py.
LOCAL_SETTINGS = Scenario.of("local-settings", {
    "airflowLocalSettings": (
        "def pod_mutation_hook(pod):\n"
        "    pod.metadata.labels = {**(pod.metadata.labels or {}), \"example.com/mutated-by\": \"{{ .Release.Name }}\"}\n"
    ),
    "apiServer": {"apiServerConfig": "AUTH_ROLE_PUBLIC = None\n"},
})

# values/gitops.yaml over dev.yaml (tests/chart/test_migrations.py): the migration Job a plain resource,
# every Secret named; the same with one config value changed, as a second sync would bring.
GITOPS = Scenario.of("gitops", files=[VALUES_DIR / "dev.yaml", VALUES_DIR / "gitops.yaml"])
GITOPS_CHANGED = Scenario.of("gitops-changed", {"config": {"core": {"default_task_retries": 1}}},
                             files=[VALUES_DIR / "dev.yaml", VALUES_DIR / "gitops.yaml"])

DETAIL_SCENARIOS = [GITOPS, UNSAFE_RELEASE_NAMESPACE, INGRESS_HOSTS_AND_ROUTE, POD_SETTINGS, PLATFORM_OBJECTS, LOCAL_SETTINGS, GITSYNC_SSH_KNOWN_HOSTS, GITSYNC_PRIVATE_CA, GITBUNDLE_SSH_KNOWN_HOSTS, EXISTING_SECRETS, CUSTOM_AUTH, FAB_OIDC, NO_RBAC, API_SERVER_PEERS, LOGS_PVC, POSTGRESQL_NO_VOLUME,
                    EXTRA_ENV, INGRESS, SERVICE_ACCOUNT_NAMES, TEAM_B, DATABASE_TLS, JWT_KEYS, METRICS_OPERATOR]

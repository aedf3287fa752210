"""pod_specs finds the pod inside every workload kind, hook pods, and pod templates kept in ConfigMaps."""

from __future__ import annotations

import yaml

from tests.lib.conformance.pod_specs_in_manifests import pod_specs

MANIFESTS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {template: {metadata: {labels: {c: web}}, spec: {containers: [{name: web, image: i}]}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec: {template: {spec: {containers: [{name: db, image: i}]}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, annotations: {helm.sh/hook: post-install}}
spec: {template: {spec: {containers: [{name: migrate, image: i}]}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cleanup}
spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: i}]}}}}}
---
apiVersion: v1
kind: Pod
metadata: {name: test-connection, annotations: {helm.sh/hook: test}}
spec: {containers: [{name: t, image: i}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: pod-template}
data:
  pod_template_file.yaml: |
    apiVersion: v1
    kind: Pod
    metadata: {name: placeholder}
    spec: {containers: [{name: base, image: i}]}
  airflow.cfg: |
    [core]
    kind: not-a-pod
  broken.yaml: "kind: [unclosed"
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
"""


def test_every_pod_carrier_is_found_once():
    objects = list(yaml.safe_load_all(MANIFESTS))
    found = pod_specs(objects)
    assert [p.origin for p in found] == [
        "Deployment/web", "StatefulSet/db", "Job/migrate", "CronJob/cleanup", "Pod/test-connection",
        "ConfigMap/pod-template[pod_template_file.yaml]",
    ]
    assert found[0].metadata == {"labels": {"c": "web"}}
    assert found[-1].spec["containers"][0]["name"] == "base"

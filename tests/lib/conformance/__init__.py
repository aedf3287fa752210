"""The conformance and security checkers the gates in tests/scan apply: strict Kubernetes schemas,
the restricted Pod Security Standard, checkov, effective RBAC, Secret material outside Secrets and
Kubernetes' name rules, with what they look at (every pod spec inside rendered manifests, every
values scenario, the DAG bundle's pods). Each checker's own tests are in tests/ beside it."""

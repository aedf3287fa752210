#!/usr/bin/env bash
# Usage: hack/create-dev-objects.sh
# Creates or updates, in namespace `development` of the cluster the current KUBECONFIG points at,
# what the DAG bundle references: Secret test-env, ConfigMaps secret and task-example-files, and the
# pull secret image-credential. The objects and their PLACEHOLDER data live in dags/dev_objects.yaml
# (tests read the same file). Idempotent: `kubectl apply`, safe to re-run. Dev clusters only.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
PROG=dev-objects

case "${1:-}" in
  -h | --help) usage ;;
esac
[[ $# -eq 0 ]] || usage_error "no arguments: it uses the current KUBECONFIG"
cd "${REPO}"

KUBECTL=.tools/bin/kubectl
OBJECTS=dags/dev_objects.yaml
[[ -x "${KUBECTL}" ]] || die "${KUBECTL} is missing: run make setup"
[[ -f "${OBJECTS}" ]] || die "${OBJECTS} is missing: restore it from git"

"${KUBECTL}" get --raw=/readyz --request-timeout=10s >/dev/null 2>&1 \
  || die "no Kubernetes API server reachable with KUBECONFIG=${KUBECONFIG:-~/.kube/config}: start a cluster (make cluster-up or make deploy-dev) or set KUBECONFIG"

"${KUBECTL}" apply --filename "${OBJECTS}"
echo "dev-objects: done (placeholder data only: never use these objects outside a dev cluster)"

#!/usr/bin/env bash
# Stop and delete the local control plane started by hack/cluster-up.sh (the built binaries stay cached).
set -o errexit -o nounset -o pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_NAME="${LOCAL_CLUSTER_NAME:-airflow-on-k8s}"
KUBECONFIG_PATH="${LOCAL_KUBECONFIG:-${REPO}/.kube/local-control-plane.yaml}"

case "${1:-}" in
  "") ;;
  -h|--help) echo "usage: hack/cluster-down.sh   (deletes local cluster '${CLUSTER_NAME}' and ${KUBECONFIG_PATH})"; exit 0 ;;
  *) echo "error: unknown argument '$1'; run with --help for usage" >&2; exit 2 ;;
esac

BIN_DIR="$("${REPO}/hack/build-control-plane.sh" --print-bin-dir)"
if [[ ! -x "${BIN_DIR}/kwokctl" ]]; then
  echo "no local control plane: kwokctl was never built (${BIN_DIR})"
  exit 0
fi
export PATH="${REPO}/.tools/bin:${BIN_DIR}:${PATH}"

if kwokctl get clusters 2>/dev/null | grep -qx "${CLUSTER_NAME}"; then
  kwokctl -v WARN delete cluster --name "${CLUSTER_NAME}" --kubeconfig "${KUBECONFIG_PATH}"
  echo "local control plane '${CLUSTER_NAME}' deleted"
else
  echo "local control plane '${CLUSTER_NAME}' is not running; nothing to do"
fi
rm -f "${KUBECONFIG_PATH}"

#!/usr/bin/env bash
# Start the local control plane: real kube-apiserver, kube-controller-manager, kube-scheduler and
# etcd (built from source by hack/build-control-plane.sh) on loopback, with KWOK simulating the
# nodes. API objects, RBAC and admission are real; containers do not run.
set -o errexit -o nounset -o pipefail

usage() {
  cat <<EOF
usage: hack/cluster-up.sh
  Builds the control plane if needed, starts cluster '${CLUSTER_NAME}' (or reuses it) and writes
  its kubeconfig to ${KUBECONFIG_PATH}.
  env: LOCAL_CLUSTER_NAME, LOCAL_KUBECONFIG
EOF
}

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_NAME="${LOCAL_CLUSTER_NAME:-airflow-on-k8s}"
KUBECONFIG_PATH="${LOCAL_KUBECONFIG:-${REPO}/.kube/local-control-plane.yaml}"

case "${1:-}" in
  "") ;;
  -h|--help) usage; exit 0 ;;
  *) echo "error: unknown argument '$1'; run with --help for usage" >&2; exit 2 ;;
esac

[[ -x "${REPO}/.tools/bin/kubectl" ]] || {
  echo "error: ${REPO}/.tools/bin/kubectl is missing; run 'make setup' first" >&2; exit 1; }

"${REPO}/hack/build-control-plane.sh"
BIN_DIR="$("${REPO}/hack/build-control-plane.sh" --print-bin-dir)"
KUBE_VERSION="$(basename "$(dirname "${BIN_DIR}")")"
# kwokctl calls kubectl; finding ours on PATH keeps it from downloading one.
export PATH="${REPO}/.tools/bin:${BIN_DIR}:${PATH}"
export KWOK_KUBE_VERSION="${KUBE_VERSION}"
kubectl_() { kubectl --kubeconfig "${KUBECONFIG_PATH}" "$@"; }

print_usage_hint() {
  echo "export KUBECONFIG=${KUBECONFIG_PATH}"
  echo "note: containers do not run on this cluster; KWOK moves pods through their lifecycle (see hack/kwok/stages.yaml)"
}

cluster_exists() { kwokctl get clusters 2>/dev/null | grep -qx "${CLUSTER_NAME}"; }
api_ready() { [[ -f "${KUBECONFIG_PATH}" ]] && kubectl_ get --raw /readyz >/dev/null 2>&1; }

# kwokctl keeps a cluster in ~/.kwok, shared by every clone on this machine, and fixes its configuration at
# creation. A stamp of what it was created from lets a clone with other configs or binaries recreate it.
CLUSTER_DIR="${KWOK_WORKDIR:-${HOME}/.kwok}/clusters/${CLUSTER_NAME}"
STAMP_FILE="${CLUSTER_DIR}/airflow-on-k8s.stamp"
stamp="$(cat "${REPO}/hack/kwok/"*.yaml "${REPO}/hack/kwok/simulated-container.log" | sha256sum | cut -d' ' -f1) ${BIN_DIR}"
# The log KWOK serves must outlive the clone that created the cluster: keep a copy in the user's cache.
LOG_FILE="${XDG_CACHE_HOME:-${HOME}/.cache}/airflow-on-k8s/kwok/simulated-container.log"

mkdir -p "$(dirname "${KUBECONFIG_PATH}")"
if cluster_exists && [[ "$(cat "${STAMP_FILE}" 2>/dev/null)" != "${stamp}" ]]; then
  echo "local control plane '${CLUSTER_NAME}' was created from other configs or binaries; recreating it"
  kwokctl -v ERROR delete cluster --name "${CLUSTER_NAME}" >/dev/null 2>&1 || true
fi

if cluster_exists; then
  # This clone may not have the kubeconfig yet: kwokctl has it.
  kwokctl get kubeconfig --name "${CLUSTER_NAME}" >"${KUBECONFIG_PATH}"
  if api_ready; then
    echo "local control plane '${CLUSTER_NAME}' is already running"
  else
    echo "local control plane '${CLUSTER_NAME}' exists but is stopped; starting it"
    kwokctl -v WARN start cluster --name "${CLUSTER_NAME}" --timeout 2m
    kwokctl get kubeconfig --name "${CLUSTER_NAME}" >"${KUBECONFIG_PATH}"
  fi
else
  rm -f "${KUBECONFIG_PATH}"
  mkdir -p "$(dirname "${LOG_FILE}")"
  cp "${REPO}/hack/kwok/simulated-container.log" "${LOG_FILE}"
  # ClusterLogs needs an absolute file path, so this one document is written here.
  logs_config="$(mktemp --suffix=.yaml)"
  trap 'rm -f "${logs_config}"' EXIT
  cat >"${logs_config}" <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: simulated-container-logs
spec:
  logs:
  - logsFile: ${LOG_FILE}
    follow: false
EOF
  echo "creating local control plane '${CLUSTER_NAME}' (kubernetes ${KUBE_VERSION}, binary runtime)"
  kwokctl -v WARN create cluster --name "${CLUSTER_NAME}" \
    --config "${REPO}/hack/kwok/cluster.yaml" \
    --config "${REPO}/hack/kwok/stages.yaml" \
    --config "${logs_config}" \
    --etcd-binary "${BIN_DIR}/etcd" \
    --kube-apiserver-binary "${BIN_DIR}/kube-apiserver" \
    --kube-controller-manager-binary "${BIN_DIR}/kube-controller-manager" \
    --kube-scheduler-binary "${BIN_DIR}/kube-scheduler" \
    --kwok-controller-binary "${BIN_DIR}/kwok" \
    --kubeconfig "${KUBECONFIG_PATH}" \
    --wait 2m || {
    # Show why before removing the half-made cluster, so a re-run starts clean.
    for log in "${KWOK_WORKDIR:-${HOME}/.kwok}/clusters/${CLUSTER_NAME}/logs/"*.log; do
      [[ -f "${log}" ]] && { echo "--- last lines of ${log##*/}:"; tail -n 5 "${log}"; } >&2
    done
    kwokctl -v ERROR delete cluster --name "${CLUSTER_NAME}" --kubeconfig "${KUBECONFIG_PATH}" >/dev/null 2>&1 || true
    echo "error: the local control plane did not come up (see above); it was removed, re-run to retry" >&2
    exit 1
  }
  echo "${stamp}" >"${STAMP_FILE}"
fi

kubectl_ apply -f "${REPO}/hack/kwok/nodes.yaml" -f "${REPO}/hack/kwok/storage.yaml" >/dev/null
# No provisioner runs here to clean volumes: make the ones whose claim was deleted available again.
for pv in $(kubectl_ get pv -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{" "}{end}'); do
  # A merge patch to null is idempotent: a volume may show Released a moment after its claimRef went.
  kubectl_ patch pv "${pv}" --type merge -p '{"spec": {"claimRef": null}}' >/dev/null
done
kubectl_ wait --for=condition=Ready node --all --timeout=60s >/dev/null
echo "local control plane '${CLUSTER_NAME}' is up: $(kubectl_ get nodes --no-headers | wc -l) simulated nodes Ready"
print_usage_hint

#!/usr/bin/env bash
# Usage: hack/cluster/up.sh
# Brings up the cluster hack/cluster/choose.sh picks (and says which, and why) or reuses it:
#   kind  a kind cluster (Docker)
#   node  the local control plane (kube-apiserver, controller-manager, scheduler and etcd built from
#         source, run by kwokctl) plus one real node: containerd, kubelet, kube-proxy, CoreDNS
#   kwok  the same control plane with KWOK simulating the nodes (containers do not run)
# A second run reuses what runs; a run after a crash (everything killed with -9) restarts it.
# The last line printed is KUBECONFIG=<path> for the cluster.
set -o errexit -o nounset -o pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=config.sh
source "${HERE}/config.sh"
PROG=cluster-up

case "${1:-}" in
  "") ;;
  -h | --help) usage ;;
  *) usage_error "unknown argument '$1'" ;;
esac

[[ -x "${REPO}/.tools/bin/kubectl" ]] || die "${REPO}/.tools/bin/kubectl is missing; run 'make setup' first"

read -r MODE REASON <<<"$("${HERE}/choose.sh")"
if [[ "${MODE}" == kind ]]; then
  # It says which cluster and which node image in one line.
  exec "${HERE}/kind/up.sh" "${REASON}"
fi
echo "cluster: ${MODE} (${REASON#because })"

"${HERE}/build.sh"
BIN_DIR="$("${HERE}/build.sh" --print-bin-dir)"
KUBE_VERSION="$(basename "$(dirname "${BIN_DIR}")")"
# kwokctl calls kubectl; finding ours on PATH keeps it from downloading one.
export PATH="${REPO}/.tools/bin:${BIN_DIR}:${PATH}"
export KWOK_KUBE_VERSION="${KUBE_VERSION}"
kubectl_() { kubectl --kubeconfig "${KUBECONFIG_PATH}" "$@"; }

# The configs kwokctl creates the cluster from, per mode. ClusterLogs needs an absolute file path,
# and the node's settings name the PKI's place, so these are written here at run time, with this
# checkout's and this user's paths, into the cache.
CONFIG_DIR="${CACHE}/cluster/config"
mkdir -p "${CONFIG_DIR}"
LOG_FILE="${CACHE}/kwok/simulated-container.log"
mkdir -p "$(dirname "${LOG_FILE}")"
cp "${REPO}/hack/cluster/kwok/simulated-container.log" "${LOG_FILE}"
cat >"${CONFIG_DIR}/logs.yaml" <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: simulated-container-logs
spec:
  logs:
  - logsFile: ${LOG_FILE}
    follow: false
EOF
if [[ "${MODE}" == node ]]; then
  "${HERE}/packages.sh"
  # The control plane listens on the node address: the bridge must carry it first.
  "${HERE}/node/network.sh" up
  render "${HERE}/node/pv-recycler.yaml" >"${NODE_STATE}/pv-recycler.yaml"
  # shellcheck disable=SC2034 # read by render: @@API_PORT@@ in node/kwokctl.yaml
  API_PORT="$(api_port)"
  render "${HERE}/node/kwokctl.yaml" >"${CONFIG_DIR}/kwokctl-node.yaml"
  configs=("${CONFIG_DIR}/kwokctl-node.yaml")
else
  configs=("${HERE}/kwok/cluster.yaml")
fi
configs+=("${HERE}/kwok/stages.yaml" "${CONFIG_DIR}/logs.yaml")

cluster_exists() { kwokctl get clusters 2>/dev/null | grep -qx "${CLUSTER_NAME}"; }
api_ready() { [[ -f "${KUBECONFIG_PATH}" ]] && kubectl_ get --raw /readyz >/dev/null 2>&1; }

# kwokctl keeps a cluster in ~/.kwok, shared by every clone on this machine, and fixes its configuration at
# creation. A stamp of what it was created from lets a clone with other configs or binaries recreate it.
STAMP_FILE="${KWOK_CLUSTER_DIR}/airflow-on-k8s.stamp"
stamp="${MODE} $(cat "${configs[@]}" "${LOG_FILE}" | sha256sum | cut -d' ' -f1) ${BIN_DIR}"

mkdir -p "$(dirname "${KUBECONFIG_PATH}")"
# Replaced whole, never truncated in place: a helm or kubectl of another test worker (or of the user)
# may be reading it at that moment, and an empty kubeconfig sends helm to localhost:8080.
write_kubeconfig() {
  kwokctl get kubeconfig --name "${CLUSTER_NAME}" >"${KUBECONFIG_PATH}.new"
  mv -f "${KUBECONFIG_PATH}.new" "${KUBECONFIG_PATH}"
}
if cluster_exists && [[ "$(cat "${STAMP_FILE}" 2>/dev/null)" != "${stamp}" ]]; then
  echo "cluster-up: local control plane '${CLUSTER_NAME}' was created from other configs or binaries; recreating it"
  kwokctl -v ERROR delete cluster --name "${CLUSTER_NAME}" >/dev/null 2>&1 || true
  [[ "${MODE}" == node ]] && "${HERE}/node/cleanup.sh" --keep-network
fi

if cluster_exists; then
  # This clone may not have the kubeconfig yet: kwokctl has it.
  write_kubeconfig
  if api_ready; then
    echo "cluster-up: local control plane '${CLUSTER_NAME}' is already running"
  else
    echo "cluster-up: local control plane '${CLUSTER_NAME}' exists but is stopped; starting it"
    # After a crash some components may still run and others not; kwokctl starts only components
    # whose pid file names no live process, and a killed process may linger as a zombie. Stop what
    # runs and forget the dead, so every component starts afresh.
    kwokctl -v ERROR stop cluster --name "${CLUSTER_NAME}" >/dev/null 2>&1 || true
    for pid_file in "${KWOK_CLUSTER_DIR}/pids/"*.pid; do
      [[ -f "${pid_file}" ]] || continue
      state="$(awk '{print $3}' "/proc/$(cat "${pid_file}")/stat" 2>/dev/null || true)"
      [[ -z "${state}" || "${state}" == Z ]] && rm -f "${pid_file}"
    done
    kwokctl -v WARN start cluster --name "${CLUSTER_NAME}" --timeout 2m
    write_kubeconfig
  fi
else
  rm -f "${KUBECONFIG_PATH}"
  echo "cluster-up: creating local control plane '${CLUSTER_NAME}' (kubernetes ${KUBE_VERSION}, binary runtime)"
  config_args=()
  for config in "${configs[@]}"; do config_args+=(--config "${config}"); done
  kwokctl -v WARN create cluster --name "${CLUSTER_NAME}" "${config_args[@]}" \
    --etcd-binary "${BIN_DIR}/etcd" \
    --kube-apiserver-binary "${BIN_DIR}/kube-apiserver" \
    --kube-controller-manager-binary "${BIN_DIR}/kube-controller-manager" \
    --kube-scheduler-binary "${BIN_DIR}/kube-scheduler" \
    --kwok-controller-binary "${BIN_DIR}/kwok" \
    --kubeconfig "${KUBECONFIG_PATH}" \
    --wait 2m || {
    # Show why before removing the half-made cluster, so a re-run starts clean.
    for log in "${KWOK_CLUSTER_DIR}/logs/"*.log; do
      [[ -f "${log}" ]] && { echo "--- last lines of ${log##*/}:"; tail -n 5 "${log}"; } >&2
    done
    kwokctl -v ERROR delete cluster --name "${CLUSTER_NAME}" --kubeconfig "${KUBECONFIG_PATH}" >/dev/null 2>&1 || true
    die "the local control plane did not come up (see above); it was removed, re-run to retry"
  }
  echo "${stamp}" >"${STAMP_FILE}"
fi
# kwokctl may report a cluster that never served as created: check it answers before going on.
for ((i = 0; i < 60; i++)); do api_ready && break; sleep 1; done
api_ready || die "the local control plane's API server does not answer; see ${KWOK_CLUSTER_DIR}/logs/kube-apiserver.log"


if [[ "${MODE}" == node ]]; then
  "${HERE}/node/up.sh"
else
  kubectl_ apply -f "${HERE}/kwok/nodes.yaml" -f "${HERE}/kwok/storage.yaml" >/dev/null
  # No provisioner runs here to clean volumes: make the ones whose claim was deleted available again.
  for pv in $(kubectl_ get pv -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{" "}{end}'); do
    # A merge patch to null is idempotent: a volume may show Released a moment after its claimRef went.
    kubectl_ patch pv "${pv}" --type merge -p '{"spec": {"claimRef": null}}' >/dev/null
  done
  kubectl_ wait --for=condition=Ready node --all --timeout=60s >/dev/null
  echo "cluster-up: local control plane '${CLUSTER_NAME}' is up: $(kubectl_ get nodes --no-headers | wc -l) simulated nodes Ready"
  echo "note: containers do not run on this cluster; KWOK moves pods through their lifecycle (see hack/cluster/kwok/README.md)"
fi
echo "KUBECONFIG=${KUBECONFIG_PATH}"

#!/usr/bin/env bash
# Usage: hack/cluster/down.sh
# Deletes the local cluster hack/cluster/up.sh started: the control plane (kwokctl) and, when it ran,
# the real node with everything it put on this machine (processes, mounts, cgroups, netfilter rules,
# links, sysctls, files), or the kind cluster it made with its network. What is built stays cached:
# binaries, images (containerd's content store, the image builder's layers).
set -o errexit -o nounset -o pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=config.sh
source "${HERE}/config.sh"
PROG=cluster-down

case "${1:-}" in
  "") ;;
  -h | --help) usage ;;
  *) usage_error "unknown argument '$1'" ;;
esac

BIN_DIR="$("${HERE}/build.sh" --print-bin-dir)"
export PATH="${REPO}/.tools/bin:${BIN_DIR}:${PATH}"

# The node first: its kubelet would otherwise keep calling an API server that is going away.
if [[ "$(uname -s)" == Linux && "$(id -u)" == 0 ]] && { [[ -d "${NODE_STATE}" || -d "${NODE_RUN}" ]] || ip link show "${BRIDGE}" >/dev/null 2>&1; }; then
  "${HERE}/node/cleanup.sh"
  echo "cluster-down: real node ${NODE_NAME} removed"
fi
# The kind cluster up.sh made, with the network kind made for it (kind leaves that behind).
if [[ -x "${REPO}/.tools/bin/kind" ]] && { docker info >/dev/null 2>&1 || "${REPO}/hack/images/dockerd.sh" status; }; then
  "${HERE}/kind/down.sh"
fi
# The image builder's private daemon, if a build (or a kind cluster) left it running.
"${REPO}/hack/images/dockerd.sh" stop >/dev/null 2>&1 || true

if [[ -x "${BIN_DIR}/kwokctl" ]] && kwokctl get clusters 2>/dev/null | grep -qx "${CLUSTER_NAME}"; then
  kwokctl -v WARN delete cluster --name "${CLUSTER_NAME}" --kubeconfig "${KUBECONFIG_PATH}"
  echo "cluster-down: local control plane '${CLUSTER_NAME}' deleted"
else
  echo "cluster-down: local control plane '${CLUSTER_NAME}' is not running; nothing to do"
fi
rm -f "${KUBECONFIG_PATH}"

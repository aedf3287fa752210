#!/usr/bin/env bash
# Usage: hack/cluster/node/up.sh
# Joins the real node to the running local control plane (hack/cluster/up.sh calls this after
# network.sh up and the control plane): containerd + runc with bridge CNI, the kubelet registering
# with its own certificate, kube-proxy, then cluster DNS (CoreDNS) and storage. When all three
# daemons already run it only checks; when any is missing (a crash, kill -9) it wipes the node's
# runtime state and starts it again: the API server still holds the pods, and the kubelet recreates them.
set -o errexit -o nounset -o pipefail
# shellcheck source=../../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../config.sh
source "${HERE}/../config.sh"
# shellcheck source=processes.sh
source "${HERE}/processes.sh"
# shellcheck source=netfilter.sh
source "${HERE}/netfilter.sh"
PROG=node

case "${1:-}" in
  -h | --help) usage ;;
esac
[[ $# -eq 0 ]] || usage_error "no arguments"
[[ "$(id -u)" == 0 ]] || die "the real node needs root (containers, mounts, netfilter)"
BIN_DIR="$("${HERE}/../build.sh" --print-bin-dir)"
KUBECTL=("${REPO}/.tools/bin/kubectl" --kubeconfig "${KUBECONFIG_PATH}")
CTR=(ctr --address "${CONTAINERD_SOCKET}" --namespace k8s.io)
SERVER="$("${KUBECTL[@]}" config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
CONFIG_DIR="${NODE_STATE}/config"
COREDNS_IMAGE=docker.io/airflow-on-k8s/coredns:$("${BIN_DIR}/coredns" -version | sed -n 's/^CoreDNS-//p')

# wait_for SECONDS COMMAND...: poll COMMAND every 0.5 s; status 1 when it never succeeded.
wait_for() {
  local seconds="$1" i
  shift
  for ((i = 0; i < seconds * 2; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  return 1
}

render_configs() {
  mkdir -p "${CONFIG_DIR}" "${NODE_STATE}/cni/net.d" "${NODE_STATE}/kubelet" "${NODE_STATE}/pod-logs"
  render "${HERE}/containerd.toml" >"${CONFIG_DIR}/containerd.toml"
  render "${HERE}/kubelet.yaml" >"${CONFIG_DIR}/kubelet.yaml"
  render "${HERE}/kube-proxy.yaml" >"${CONFIG_DIR}/kube-proxy.yaml"
  render "${HERE}/cni.conflist" >"${NODE_STATE}/cni/net.d/10-${CNI_NETWORK}.conflist"
}

# import_scratch_image TAG BINARY [ARGS...]: the pause and CoreDNS images, assembled from the built
# binaries (hack/images/scratch_image.py) and imported unless containerd already has that image.
import_scratch_image() {
  local tag="$1" binary="$2" archive
  shift 2
  "${CTR[@]}" images list --quiet | grep -qxF "${tag}" && return 0
  archive="$(mktemp --suffix=.tar)"
  python3 "${REPO}/hack/images/scratch_image.py" "${archive}" "${tag}" "${binary}" "$@"
  "${CTR[@]}" images import "${archive}" >/dev/null
  rm -f "${archive}"
}

# config_changed NAME: when ${HERE}/NAME.yaml renders other than the configuration the running daemon
# NAME was started with, stop it and write the new one (the caller starts it again); else status 1.
config_changed() {
  local name="$1" rendered
  rendered="$(render "${HERE}/${name}.yaml")"
  [[ "${rendered}" != "$(cat "${CONFIG_DIR}/${name}.yaml" 2>/dev/null)" ]] || return 1
  echo "node: ${name}'s configuration changed; restarting it"
  stop_daemon "${name}"
  printf '%s\n' "${rendered}" >"${CONFIG_DIR}/${name}.yaml"
}

start_kubelet() {
  start_daemon kubelet "${BIN_DIR}/kubelet" --config "${CONFIG_DIR}/kubelet.yaml" \
    --kubeconfig "${NODE_STATE}/pki/kubelet.kubeconfig" --root-dir "${NODE_STATE}/kubelet" \
    --hostname-override "${NODE_NAME}" --node-ip "${NODE_IP}" \
    --volume-plugin-dir "${NODE_STATE}/volume-plugins" --cert-dir "${NODE_STATE}/kubelet/pki"
}

start_node() {
  echo "node: starting containerd, the kubelet and kube-proxy for ${NODE_NAME}"
  "${HERE}/cleanup.sh" --keep-network
  "${HERE}/pki.sh" "${SERVER}"
  render_configs
  mkdir -p "${CONTAINERD_ROOT}"
  start_daemon containerd "$(command -v containerd)" --config "${CONFIG_DIR}/containerd.toml"
  wait_for 30 "${CTR[@]}" version \
    || die "containerd did not start; last lines of ${NODE_LOGS}/containerd.log:"$'\n'"$(log_tail containerd)"
  import_scratch_image "${PAUSE_IMAGE}" "${BIN_DIR}/pause"
  import_scratch_image "${COREDNS_IMAGE}" "${BIN_DIR}/coredns" --user 65532:65532
  import_scratch_image "${BUSYBOX_IMAGE}" /bin/busybox --user 0:0
  start_kubelet
  start_daemon kube-proxy "${BIN_DIR}/kube-proxy" --config "${CONFIG_DIR}/kube-proxy.yaml"
}

# NetworkPolicies (NETWORK_POLICY_ENGINE=kube-router, the default; none turns it off): kube-router's
# network policy controller alone (no routing, no service proxy, no CNI config), with read-only RBAC
# of its own. kube-router v2.1.0 rewrites the whole iptables filter table from a copy it saved a
# moment before (iptables-save, edit, iptables-restore without --noflush), so rules another daemon
# adds there in between are lost; kube-proxy runs in nftables mode, in its own tables, out of reach.
start_kube_router() {
  [[ "${NETWORK_POLICY_ENGINE}" == kube-router ]] || return 0
  "${HERE}/../build-kube-router.sh"
  "${KUBECTL[@]}" apply -f "${HERE}/kube-router-rbac.yaml" >/dev/null
  start_daemon kube-router "${KUBE_ROUTER}" --kubeconfig "${NODE_STATE}/pki/kube-router.kubeconfig" \
    --hostname-override "${NODE_NAME}" --run-firewall=true --run-router=false --run-service-proxy=false \
    --enable-cni=false --health-port=0 --service-cluster-ip-range "${SERVICE_CIDR}"
}

# What kube-router's own cleanup leaves (its jumps from the built-in chains, its chains, ipsets).
remove_kube_router_rules() {
  local chain chains pattern='KUBE-(ROUTER|NWPLCY|POD-FW|SRC|DST)'
  delete_jumps iptables filter "^${pattern}"
  chains="$(iptables-save -t filter | grep -oE "^:${pattern}[^ ]*" | tr -d : || true)"
  for chain in ${chains}; do iptables -t filter -F "${chain}" 2>/dev/null || true; done
  for chain in ${chains}; do iptables -t filter -X "${chain}" 2>/dev/null || true; done
  for chain in $(ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router-)' || true); do ipset destroy "${chain}" 2>/dev/null || true; done
}

KUBE_ROUTER="$("${HERE}/../build-kube-router.sh" --print-path)"
if is_running containerd && is_running kubelet && is_running kube-proxy; then
  echo "node: ${NODE_NAME} is already running"
  # A node started with another kube-proxy configuration (before its switch to nftables mode):
  # remove that kube-proxy's rules and start it again with this one.
  if config_changed kube-proxy; then
    "${BIN_DIR}/kube-proxy" --cleanup >/dev/null 2>&1 || true
    start_daemon kube-proxy "${BIN_DIR}/kube-proxy" --config "${CONFIG_DIR}/kube-proxy.yaml"
  fi
  # A kubelet started with another configuration: start it again with this one (its pods keep running).
  if config_changed kubelet; then
    start_kubelet
  fi
  if [[ "${NETWORK_POLICY_ENGINE}" != kube-router ]] && is_running kube-router; then
    # Switched off (NETWORK_POLICY_ENGINE=none): stop it and remove its rules.
    stop_daemon kube-router
    "${KUBE_ROUTER}" --cleanup-config >/dev/null 2>&1 || true
    remove_kube_router_rules
  fi
else
  start_node
fi

wait_for 60 "${KUBECTL[@]}" get node "${NODE_NAME}" \
  || die "${NODE_NAME} did not register; last lines of ${NODE_LOGS}/kubelet.log:"$'\n'"$(log_tail kubelet 10)"
"${KUBECTL[@]}" wait node "${NODE_NAME}" --for condition=Ready --timeout 120s >/dev/null \
  || die "${NODE_NAME} did not become Ready; last lines of ${NODE_LOGS}/kubelet.log:"$'\n'"$(log_tail kubelet 10)"
# kube-router finds its node by name at start: only once the kubelet has registered it.
if [[ "${NETWORK_POLICY_ENGINE}" == kube-router ]] && ! is_running kube-router; then
  "${HERE}/pki.sh" "${SERVER}"
  start_kube_router
  sleep 2
  is_running kube-router || die "kube-router did not start; last lines of ${NODE_LOGS}/kube-router.log:"$'\n'"$(log_tail kube-router 5)"
fi

# Cluster add-ons: storage (hostPath volumes on this node, scrubbed and offered again when released)
# and cluster DNS.
{
  render "${HERE}/storage.yaml"
  for VOLUME_INDEX in $(seq 1 "${VOLUMES}"); do
    mkdir -p "${NODE_STATE}/volumes/pv-${VOLUME_INDEX}"
    # hostPath volumes get no fsGroup: any pod user may create its data directory here (the
    # chart's PostgreSQL keeps PGDATA in a subdirectory it creates itself).
    chmod 1777 "${NODE_STATE}/volumes/pv-${VOLUME_INDEX}"
    echo "---"
    render "${HERE}/volume.yaml"
  done
  # Recycle is deprecated in favour of dynamic provisioners, which need images from a registry.
} | "${KUBECTL[@]}" apply -f - 2>&1 >/dev/null | { grep -v "The Recycle reclaim policy is deprecated" || true; } >&2
render "${HERE}/coredns.yaml" | "${KUBECTL[@]}" apply -f - >/dev/null
"${KUBECTL[@]}" -n kube-system rollout status deployment/coredns --timeout 120s >/dev/null \
  || die "cluster DNS (CoreDNS) did not become ready: kubectl -n kube-system describe pods -l k8s-app=kube-dns"
# Ready only once kube-proxy routes the DNS Service too, or the first pods would find no resolver.
wait_for 60 busybox nslookup "kubernetes.default.svc.${CLUSTER_DOMAIN}" "${DNS_SERVICE_IP}" \
  || die "cluster DNS does not answer at ${DNS_SERVICE_IP}; last lines of ${NODE_LOGS}/kube-proxy.log:"$'\n'"$(log_tail kube-proxy 10)"
echo "node: ${NODE_NAME} is Ready (containerd $(containerd --version | awk '{print $3}'), kubelet $("${BIN_DIR}/kubelet" --version | awk '{print $2}'), CoreDNS at ${DNS_SERVICE_IP})"

#!/usr/bin/env bash
# Usage: hack/cluster/node/network.sh up|down
# The real node's host networking, which must exist before the control plane starts (it listens on
# the node address):
#   up    the pods' bridge with the node address, IP forwarding and bridged traffic through netfilter
#         (kube-proxy's Service rules apply between pods on the bridge), one masquerade rule for pod
#         egress, forward-accept rules for the bridge, and a rule refusing the API server's port
#         (it listens on all addresses) to anything but loopback (this machine itself) and the pods'
#         addresses. The host's sysctls are saved first.
#   down  the reverse: rules and bridge removed, every saved sysctl restored.
set -o errexit -o nounset -o pipefail
# shellcheck source=../../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../config.sh
source "${HERE}/../config.sh"
PROG="node network"

case "${1:-}" in
  up | down) ;;
  -h | --help) usage ;;
  *) usage_error "one argument, up or down" ;;
esac

SAVED="${NODE_STATE}/host-sysctls"
API_PORT="$(api_port)"
COMMENT="airflow-on-k8s node ${BRIDGE}"
# Every sysctl the node (the kubelet, kube-proxy or this script) may change.
SYSCTLS=(net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
  net.ipv4.conf.all.route_localnet vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
# table chain rule...: the rules this script owns, each marked with COMMENT.
RULES=(
  "nat POSTROUTING -s ${POD_CIDR} ! -d ${POD_CIDR} -j MASQUERADE"
  "filter FORWARD -i ${BRIDGE} -j ACCEPT"
  "filter FORWARD -o ${BRIDGE} -j ACCEPT"
  "filter INPUT -p tcp --dport ${API_PORT} ! -i lo ! -s ${POD_CIDR} -j DROP"
)
# The API server's port over IPv6 too (pods have no IPv6 address: only loopback may use it).
RULES6=("filter INPUT -p tcp --dport ${API_PORT} ! -i lo -j DROP")

up() {
  local key value
  mkdir -p "${NODE_STATE}"
  # Saved once: after a crash the file still holds the values from before the node's first start.
  if [[ ! -f "${SAVED}" ]]; then
    for key in "${SYSCTLS[@]}"; do
      value="$(sysctl -n "${key}" 2>/dev/null)" && printf '%s=%s\n' "${key}" "${value//$'\t'/ }"
    done >"${SAVED}.tmp"
    mv "${SAVED}.tmp" "${SAVED}"
  fi
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  ip link show "${BRIDGE}" >/dev/null 2>&1 || ip link add "${BRIDGE}" type bridge
  ip addr replace "${NODE_IP}/${POD_CIDR#*/}" dev "${BRIDGE}"
  ip link set "${BRIDGE}" up
  add_rules iptables "${RULES[@]}"
  add_rules ip6tables "${RULES6[@]}"
}

# add_rules IPTABLES RULE...: insert each rule (marked with COMMENT) unless it is there already.
add_rules() {
  local ipt="$1" rule table chain spec
  shift
  for rule in "$@"; do
    read -r table chain spec <<<"${rule}"
    # shellcheck disable=SC2086 # spec is a list of arguments
    "${ipt}" -t "${table}" -C "${chain}" ${spec} -m comment --comment "${COMMENT}" 2>/dev/null \
      || "${ipt}" -t "${table}" -I "${chain}" 1 ${spec} -m comment --comment "${COMMENT}"
  done
}

# delete_rules IPTABLES RULE...: remove each rule, however often it was added.
delete_rules() {
  local ipt="$1" rule table chain spec
  shift
  for rule in "$@"; do
    read -r table chain spec <<<"${rule}"
    # shellcheck disable=SC2086 # spec is a list of arguments
    while "${ipt}" -t "${table}" -D "${chain}" ${spec} -m comment --comment "${COMMENT}" 2>/dev/null; do :; done
  done
}

down() {
  local line
  delete_rules iptables "${RULES[@]}"
  delete_rules ip6tables "${RULES6[@]}"
  ip link del "${BRIDGE}" 2>/dev/null || true
  if [[ -f "${SAVED}" ]]; then
    while IFS= read -r line; do sysctl -qw "${line}" 2>/dev/null || true; done <"${SAVED}"
    rm -f "${SAVED}"
  fi
}

case "$1" in
  up) up ;;
  down) down ;;
esac

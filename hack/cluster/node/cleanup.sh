#!/usr/bin/env bash
# Usage: hack/cluster/node/cleanup.sh [--keep-network]
# Removes everything the real node put on this machine, whether it was stopped cleanly or killed with
# -9: its processes and the containers' processes, mounts, cgroups, netfilter rules, network links,
# sysctls (restored to what they were before the node first started) and files outside the cache.
# The images in containerd's content store (in the cache) stay. Idempotent; safe with no node.
#   --keep-network  leave the bridge and its address, sysctls and rules (a restart after a crash
#                   reuses them; the control plane listens on the bridge address)
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
PROG="node cleanup"

KEEP_NETWORK=false
case "${1:-}" in
  "") ;;
  --keep-network) KEEP_NETWORK=true ;;
  -h | --help) usage ;;
  *) usage_error "unknown argument '$1'" ;;
esac
[[ "$(id -u)" == 0 ]] || die "needs root (the node's mounts, cgroups and netfilter rules are root's)"

BIN_DIR="$("${HERE}/../build.sh" --print-bin-dir)"
CTR=(ctr --address "${CONTAINERD_SOCKET}" --namespace k8s.io)

# 1. The kubelet and kube-proxy first, so nothing restarts containers while they are removed.
stop_daemon kubelet
stop_daemon kube-proxy
stop_daemon kube-router

# 2. Containers, through containerd: their processes end, their rootfs mounts go, and CNI's cache
# entries for their sandboxes with them. After a crash containerd is started for this, then stopped.
if ! is_running containerd && [[ -f "${NODE_STATE}/config/containerd.toml" && -d "${CONTAINERD_ROOT}" ]]; then
  start_daemon containerd "$(command -v containerd)" --config "${NODE_STATE}/config/containerd.toml"
  for ((i = 0; i < 60; i++)); do "${CTR[@]}" version >/dev/null 2>&1 && break; sleep 0.5; done
fi
if is_running containerd; then
  "${HERE}/forget-containers.sh"
fi
stop_daemon containerd

# 3. Whatever a kill -9 left running: shims of our containerd, and any process still in a pod cgroup.
pkill -9 -f -- "containerd-shim-runc-v2 .*-address ${CONTAINERD_SOCKET}" 2>/dev/null || true
pod_cgroups() { find /sys/fs/cgroup/*/kubepods -depth -type d 2>/dev/null || true; }
for cg in $(pod_cgroups); do
  while read -r pid; do
    if [[ -n "${pid}" ]]; then kill -9 "${pid}" 2>/dev/null || true; fi
  done <"${cg}/cgroup.procs"
done

# 4. Mounts under the node's directories (container rootfs, /dev/shm, network namespaces, volumes),
# deepest first; lazily, so a mount still busy for a moment does not stop the rest.
for dir in "${NODE_RUN}" "${NODE_STATE}" "${CONTAINERD_ROOT}"; do
  awk -v d="${dir}/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r mnt; do
    umount -l "${mnt}" 2>/dev/null || true
  done
done

# 5. Pod cgroups (the kubelet's cgroupfs hierarchy), deepest first, once their processes are gone.
for ((i = 0; i < 20; i++)); do
  left=0
  for cg in $(pod_cgroups); do rmdir "${cg}" 2>/dev/null || left=1; done
  [[ ${left} == 0 ]] && break
  sleep 0.25
done

# 6. kube-proxy's and kube-router's netfilter rules (each removes its own), then any KUBE-* chain
# left (the kubelet's canaries) and kube-router's ipsets once no rule uses them.
"${BIN_DIR}/kube-proxy" --cleanup >/dev/null 2>&1 || true
# (its nftables tables too; removed by hand should --cleanup have missed them)
if command -v nft >/dev/null; then
  for family in ip ip6; do nft delete table "${family}" kube-proxy 2>/dev/null || true; done
fi
KUBE_ROUTER="$("${HERE}/../build-kube-router.sh" --print-path)"
# (v2.1.0 removes its firewall rules first, then panics in its service proxy's cleanup on a host
# without IPVS; harmless here, hence the silence.)
if [[ -x "${KUBE_ROUTER}" ]]; then "${KUBE_ROUTER}" --cleanup-config >/dev/null 2>&1 || true; fi
for ipt in iptables ip6tables; do
  command -v "${ipt}" >/dev/null || continue
  for table in filter nat mangle; do
    chains="$("${ipt}-save" -t "${table}" 2>/dev/null | sed -n 's/^:\(KUBE-[^ ]*\) .*/\1/p')"
    [[ -n "${chains}" ]] || continue
    # Rules that jump to a KUBE-* chain from a built-in chain, then the chains themselves.
    delete_jumps "${ipt}" "${table}" '^KUBE-'
    for chain in ${chains}; do "${ipt}" -t "${table}" -F "${chain}" 2>/dev/null || true; done
    for chain in ${chains}; do "${ipt}" -t "${table}" -X "${chain}" 2>/dev/null || true; done
  done
done
if command -v ipset >/dev/null; then
  for set in $(ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router-)' || true); do ipset destroy "${set}" 2>/dev/null || true; done
fi
# Connection tracking entries of pod traffic would otherwise outlive the pods by minutes.
conntrack -D -s "${POD_CIDR}" >/dev/null 2>&1 || true
conntrack -D -d "${POD_CIDR}" >/dev/null 2>&1 || true

# 7. Files the kubelet and CNI write outside the node's own directories, then those directories.
find /var/log/containers -maxdepth 1 -type l -lname "${NODE_STATE}/*" -delete 2>/dev/null || true
rm -rf /var/lib/kubelet/device-plugins /var/lib/kubelet/plugins_registry /var/lib/kubelet/plugins 2>/dev/null || true
for dir in /var/log/containers /var/lib/cni/results /var/lib/cni /var/lib/kubelet; do
  rmdir "${dir}" 2>/dev/null || true
done
# Sockets left by killed shims of any containerd: nothing listens on them any more.
if [[ -d /run/containerd/s ]]; then
  listening="$(ss -xlnH 2>/dev/null | awk '{print $5}')"
  for sock in /run/containerd/s/*; do
    [[ -S "${sock}" ]] && ! grep -qxF "${sock}" <<<"${listening}" && rm -f "${sock}"
  done
  rmdir /run/containerd/s /run/containerd 2>/dev/null || true
fi
rm -rf "${NODE_RUN}"
if [[ "${KEEP_NETWORK}" == true ]]; then
  # The saved sysctls and the volumes' data stay with the network they belong to.
  find "${NODE_STATE}" -mindepth 1 -maxdepth 1 ! -name host-sysctls ! -name volumes ! -name pv-recycler.yaml \
    -exec rm -rf {} + 2>/dev/null || true
else
  "${HERE}/network.sh" down
  rm -rf "${NODE_STATE}"
  rmdir "$(dirname "${NODE_STATE}")" "$(dirname "${NODE_RUN}")" 2>/dev/null || true
fi

#!/usr/bin/env bash
# Usage: hack/cluster/node/forget-containers.sh
# Removes every container and pod sandbox from the node's running containerd (namespace k8s.io),
# killing what still runs, and CNI's cached results for those sandboxes (libcni keeps them in
# /var/lib/cni, outside the node's directories). Images stay. Used on teardown, and on a restart
# after a crash, when the containers containerd remembers died with the node.
set -o errexit -o nounset -o pipefail
# shellcheck source=../../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../config.sh
source "${HERE}/../config.sh"

case "${1:-}" in
  -h | --help) usage ;;
esac
[[ $# -eq 0 ]] || usage_error "no arguments"

CTR=(ctr --address "${CONTAINERD_SOCKET}" --namespace k8s.io)

containers="$("${CTR[@]}" containers list --quiet)"
for task in $("${CTR[@]}" tasks list --quiet 2>/dev/null); do
  "${CTR[@]}" tasks kill --signal SIGKILL "${task}" >/dev/null 2>&1 || true
done
for task in $("${CTR[@]}" tasks list --quiet 2>/dev/null); do
  for ((i = 0; i < 20; i++)); do "${CTR[@]}" tasks delete --force "${task}" >/dev/null 2>&1 && break; sleep 0.25; done
done
for container in ${containers}; do
  "${CTR[@]}" containers delete "${container}" >/dev/null 2>&1 || true
  # Named <network>-<sandbox id>-<interface>: the pod network's and the loopback's.
  rm -f /var/lib/cni/results/*-"${container}"-* 2>/dev/null || true
done

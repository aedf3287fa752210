#!/usr/bin/env bash
# Usage: hack/cluster/choose.sh
# Prints which cluster `make cluster-up` / `make deploy-dev` use on this machine, and why, as one line:
#   <mode> <reason>
#   kind  a Docker daemon is reachable and kind's node image is there (or can be pulled)
#   node  the local control plane plus a real kubelet node: Linux, as root, no usable Docker
#   kwok  the local control plane with simulated nodes: not Linux, or not root (containers cannot run)
# CLUSTER_MODE=kind|node|kwok overrides the choice.
set -o errexit -o nounset -o pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

case "${1:-}" in
  -h | --help) usage ;;
esac
[[ $# -eq 0 ]] || usage_error "no arguments"

HERE="$(cd "$(dirname "$0")" && pwd)"
KIND_IMAGE="$(sed -n 's/^ *image: //p' "${HERE}/kind/cluster.yaml")"

case "${CLUSTER_MODE:-}" in
  kind | node | kwok) echo "${CLUSTER_MODE} because CLUSTER_MODE=${CLUSTER_MODE} was set"; exit 0 ;;
  "") ;;
  *) die "CLUSTER_MODE must be kind, node or kwok, not '${CLUSTER_MODE}'" 2 ;;
esac

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  if docker image inspect "${KIND_IMAGE}" >/dev/null 2>&1 || timeout 300 docker pull -q "${KIND_IMAGE}" >/dev/null 2>&1; then
    echo "kind because a Docker daemon is reachable and kind's node image ${KIND_IMAGE%@*} is available"
    exit 0
  fi
  docker_note="a Docker daemon is reachable but kind's node image ${KIND_IMAGE%@*} cannot be pulled, so "
fi
if [[ "$(uname -s)" != Linux ]]; then
  echo "kwok because ${docker_note:-}this machine runs $(uname -s), not Linux, so it cannot run the real node's containers (containers are simulated)"
elif [[ "$(id -u)" != 0 ]]; then
  echo "kwok because ${docker_note:-}the real node needs root (containers, mounts, netfilter) and this is uid $(id -u) (containers are simulated)"
else
  echo "node because ${docker_note:-no Docker daemon is reachable for kind, and }this runs as root on Linux, so the local control plane gets a real kubelet node"
fi

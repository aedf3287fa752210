#!/usr/bin/env bash
# Usage: hack/cluster/kind/down.sh
# Deletes the kind cluster of cluster.yaml (its node container and that container's volume) and the
# Docker network `kind` when no other container uses it: kind creates that network and never removes
# it. Leaves images alone. A no-op when there is no such cluster.
set -o errexit -o nounset -o pipefail
# shellcheck source=../../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../config.sh
source "${HERE}/../config.sh"
PROG=cluster-down

case "${1:-}" in
  -h | --help) usage ;;
esac
[[ $# -eq 0 ]] || usage_error "no arguments"

NAME="$(sed -n 's/^name: //p' "${HERE}/cluster.yaml")"
use_docker 2>/dev/null || { echo "cluster-down: no Docker daemon, so no kind cluster"; exit 0; }

if "${HERE}/kind.sh" get clusters 2>/dev/null | grep -qx "${NAME}"; then
  "${HERE}/kind.sh" delete cluster --name "${NAME}"
  echo "cluster-down: kind cluster '${NAME}' deleted"
fi
if docker network inspect kind >/dev/null 2>&1 && [[ -z "$(docker ps -aq --filter network=kind)" ]]; then
  docker network rm kind >/dev/null
  echo "cluster-down: Docker network 'kind' removed"
fi
rm -f "${REPO}/.kube/kind.yaml"

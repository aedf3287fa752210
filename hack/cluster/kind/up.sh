#!/usr/bin/env bash
# Usage: hack/cluster/kind/up.sh REASON
# Creates the kind cluster of cluster.yaml, or reuses it, for hack/cluster/up.sh (REASON: why kind was
# chosen). Its node image is kind's own (pinned in cluster.yaml) when the Docker daemon has it or can
# pull it; otherwise one built here (node-image.sh) with cluster-local-node.yaml. Prints one line that
# says which cluster and which image, and why; the last line is KUBECONFIG=<path>.
set -o errexit -o nounset -o pipefail
# shellcheck source=../../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../config.sh
source "${HERE}/../config.sh"
PROG=cluster-up

case "${1:-}" in
  -h | --help) usage ;;
esac
[[ $# -eq 1 && -n "$1" ]] || usage_error "one argument: why kind was chosen"

REASON="$1"
KIND_KUBECONFIG="${REPO}/.kube/kind.yaml"
NAME="$(sed -n 's/^name: //p' "${HERE}/cluster.yaml")"
UPSTREAM_IMAGE="$(sed -n 's/^ *image: //p' "${HERE}/cluster.yaml")"

use_docker 2>/dev/null \
  || die "kind needs a Docker daemon: start Docker (or point DOCKER_HOST at one); as root on Linux hack/images/dockerd.sh can run one (hack/cluster/packages.sh installs it)"
daemon="$([[ -n "${DOCKER_HOST:-}" ]] && echo "the private Docker daemon (hack/images/dockerd.sh)" || echo "your Docker daemon")"

if docker image inspect "${UPSTREAM_IMAGE}" >/dev/null 2>&1 || timeout 300 docker pull -q "${UPSTREAM_IMAGE}" >/dev/null 2>&1; then
  CONFIG="${HERE}/cluster.yaml"
  image_note="kind's node image ${UPSTREAM_IMAGE%@*}"
else
  "${HERE}/node-image.sh"
  CONFIG="$("${HERE}/node-image.sh" --print-config)"
  image_note="node image $("${HERE}/node-image.sh" --print-image) built here, as kind's ${UPSTREAM_IMAGE%@*} cannot be pulled"
fi
echo "cluster: kind (${REASON#because }; ${image_note}; on ${daemon})"

# ready SECONDS: whether the cluster's API server answers /readyz within SECONDS.
ready() {
  local deadline=$((SECONDS + $1))
  until "${REPO}/.tools/bin/kubectl" --kubeconfig "${KIND_KUBECONFIG}" get --raw /readyz >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 2
  done
}

mkdir -p "$(dirname "${KIND_KUBECONFIG}")"
create=true
if "${HERE}/kind.sh" get clusters 2>/dev/null | grep -qx "${NAME}"; then
  create=false
  node="${NAME}-control-plane"
  # A node whose daemon was stopped or killed (the end of a session kills every process) is stopped:
  # start it again, and recreate the cluster only if it does not come back.
  if [[ "$(docker inspect -f '{{.State.Running}}' "${node}" 2>/dev/null)" != true ]]; then
    echo "cluster-up: kind cluster '${NAME}' exists but its node is stopped (its Docker daemon was stopped); starting it"
    docker start "${node}" >/dev/null || true
  else
    echo "cluster-up: kind cluster '${NAME}' already exists; reusing it"
  fi
  "${HERE}/kind.sh" export kubeconfig --name "${NAME}" --kubeconfig "${KIND_KUBECONFIG}"
  if ! ready 180; then
    echo "cluster-up: kind cluster '${NAME}' did not answer within 180 s; deleting and recreating it"
    "${HERE}/kind.sh" delete cluster --name "${NAME}"
    create=true
  fi
fi
if [[ "${create}" == true ]]; then
  "${HERE}/kind.sh" create cluster --config "${CONFIG}" --kubeconfig "${KIND_KUBECONFIG}" --wait 180s
fi
echo "KUBECONFIG=${KIND_KUBECONFIG}"

#!/usr/bin/env bash
# Usage: hack/cluster/build-kube-router.sh [--print-path]
# Builds, once, kube-router from its Go module into ~/.cache/airflow-on-k8s/cluster/kube-router-<v>/.
# The real node runs only its network policy controller (--run-firewall): the bridge CNI plugin
# enforces no NetworkPolicy, and the chart's policies must be tested against an engine that does.
# kube-network-policies (SIG Network's) needs the kernel's nft_queue, which the kernel of this
# project's machines lacks (CONFIG_NFT_QUEUE unset).
#
# v2.1.0 is the only version the Go module proxy serves here; security flaws are reported against
# it (its BGP/routing and service proxy parts mostly). It runs on the local test node only, firewall
# controller alone, and is never shipped: nothing in the chart depends on it.
set -o errexit -o nounset -o pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=config.sh
source "$(dirname "$0")/config.sh"

KUBE_ROUTER_VERSION="${KUBE_ROUTER_VERSION:-v2.1.0}"
DIR="${CACHE}/cluster/kube-router-${KUBE_ROUTER_VERSION}"
BINARY="${DIR}/kube-router"

case "${1:-}" in
  "") ;;
  --print-path) echo "${BINARY}"; exit 0 ;;
  -h | --help) usage ;;
  *) usage_error "unknown argument '$1'" ;;
esac
if [[ -x "${BINARY}" ]]; then
  echo "kube-router ${KUBE_ROUTER_VERSION} already built in ${DIR}"
  exit 0
fi
command -v go >/dev/null || die "go not found on PATH; install Go >= 1.26 to build kube-router"
mkdir -p "${DIR}"
exec 9>"${DIR}/.build.lock"
flock 9
[[ -x "${BINARY}" ]] && exit 0
echo "building kube-router ${KUBE_ROUTER_VERSION} (about 2 min cold)"
t0=${SECONDS}
# Version stamped as its Makefile does (pkg/version), static like upstream's image.
CGO_ENABLED=0 GOBIN="${DIR}/.bin" nice -n 19 go install -ldflags "-s -w \
  -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=${KUBE_ROUTER_VERSION}" \
  "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@${KUBE_ROUTER_VERSION}"
mv "${DIR}/.bin/kube-router" "${BINARY}"
rmdir "${DIR}/.bin"
echo "kube-router ${KUBE_ROUTER_VERSION} built in $((SECONDS - t0))s: ${BINARY}"

#!/usr/bin/env bash
# Usage: hack/cluster/build.sh [--print-bin-dir | --kind-node]
# Build, once, the local cluster's binaries from source through the Go module proxy: the control
# plane (kube-apiserver, kube-controller-manager, kube-scheduler from k8s.io/kubernetes, etcd), the
# real node (kubelet, kube-proxy from the same source; CoreDNS), and KWOK for simulated nodes, into
# ${XDG_CACHE_HOME:-~/.cache}/airflow-on-k8s/cluster/<k8s-version>/bin/. Binaries are cached by
# Kubernetes version; a warm run finds them and does nothing.
#   --print-bin-dir  print that folder and exit (builds nothing)
#   --kind-node      also build kubeadm and kubectl, which a kind node image holds (kind/node-image.sh)
# KUBE_VERSION, ETCD_VERSION, KWOK_VERSION and COREDNS_VERSION override the versions pinned here.
set -o errexit -o nounset -o pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
PROG=cluster-build

# The newest patches the Go module proxy served when this was written (its version list was
# incomplete: v1.35.8 answered though only v1.35.4 was listed). KWOK v0.8.0 supports 1.35.
KUBE_VERSION_DEFAULT=v1.35.8
ETCD_VERSION_DEFAULT=v3.6.16
KWOK_VERSION_DEFAULT=v0.8.0
COREDNS_VERSION_DEFAULT=v1.14.7
KUBE_VERSION="${KUBE_VERSION:-${KUBE_VERSION_DEFAULT}}"
ETCD_VERSION="${ETCD_VERSION:-${ETCD_VERSION_DEFAULT}}"
KWOK_VERSION="${KWOK_VERSION:-${KWOK_VERSION_DEFAULT}}"
COREDNS_VERSION="${COREDNS_VERSION:-${COREDNS_VERSION_DEFAULT}}"

ROOT="${CACHE}/cluster/${KUBE_VERSION}"
BIN_DIR="${ROOT}/bin"
SRC_DIR="${ROOT}/src"
STAMP="${BIN_DIR}/VERSIONS"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy etcd kwok kwokctl coredns pause)

KIND_NODE=false
KIND_NODE_BINARIES=(kubeadm kubectl)
case "${1:-}" in
  "") ;;
  --kind-node) KIND_NODE=true ;;
  --print-bin-dir) echo "${BIN_DIR}"; exit 0 ;;
  -h | --help) usage ;;
  *) usage_error "unknown argument '$1'" ;;
esac

expected_stamp() {
  printf 'kubernetes=%s\netcd=%s\nkwok=%s\ncoredns=%s\n' "${KUBE_VERSION}" "${ETCD_VERSION}" "${KWOK_VERSION}" \
    "${COREDNS_VERSION}"
}

is_cached() {
  local b
  for b in "${BINARIES[@]}"; do [[ -x "${BIN_DIR}/${b}" ]] || return 1; done
  [[ -f "${STAMP}" && "$(cat "${STAMP}")" == "$(expected_stamp)" ]]
}

kind_node_cached() {
  local b
  [[ "${KIND_NODE}" == true ]] || return 0
  for b in "${KIND_NODE_BINARIES[@]}"; do [[ -x "${BIN_DIR}/${b}" ]] || return 1; done
}

if is_cached && kind_node_cached; then
  echo "cluster binaries ${KUBE_VERSION} already built in ${BIN_DIR}"
  exit 0
fi

# One build at a time per version (e.g. `make cluster-up` while the test suite starts one).
mkdir -p "${ROOT}"
exec 9>"${ROOT}/.build.lock"
if ! flock --nonblock 9; then
  echo "another build of the cluster binaries ${KUBE_VERSION} is running; waiting for it"
  flock 9
fi
if is_cached && kind_node_cached; then
  echo "cluster binaries ${KUBE_VERSION} already built in ${BIN_DIR}"
  exit 0
fi

command -v go >/dev/null || die "go not found on PATH; install Go >= 1.26 to build the local cluster"

# Static binaries, as upstream builds them; nice so other work on a small machine keeps going.
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -buildvcs=false"
mkdir -p "${BIN_DIR}" "${SRC_DIR}"
TIMES="${ROOT}/build-times.txt"
# Whether Go's module and build caches were warm: a cold build downloads and compiles everything.
if [[ -d "$(go env GOMODCACHE)/k8s.io/kubernetes@${KUBE_VERSION}" ]]; then caches=warm; else caches=cold; fi
echo "caches ${caches}" >"${TIMES}"
START_ALL=${SECONDS}

# step NAME CMD... : run CMD with progress and record how long it took.
step() {
  local name="$1"; shift
  local t0=${SECONDS}
  echo "==> ${name}: started $(date +%H:%M:%S)"
  nice -n 19 "$@" &
  local pid=$! next=$((SECONDS + 60))
  while kill -0 "${pid}" 2>/dev/null; do
    sleep 1
    if ((SECONDS >= next)); then
      echo "    ${name}: still building, $((SECONDS - t0))s so far"
      next=$((next + 60))
    fi
  done
  wait "${pid}"
  local took=$((SECONDS - t0))
  printf '%s %ds\n' "${name}" "${took}" | tee -a "${TIMES}"
}

# Print the GoMod file path of MODULE@VERSION (downloads it through the proxy).
gomod_of() {
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p'
}

# Print one "replace" line per relative replace in a go.mod: those modules live in the same
# repository, so they are pinned to the version published with it instead of a local path.
replaces_from() {
  local gomod="$1" version="$2" module
  sed -n 's#^[[:space:]]*\(replace[[:space:]]\+\)\{0,1\}\([^[:space:]]\+\)[[:space:]]\+=>[[:space:]]\+\.\{1,2\}/.*#\2#p' "${gomod}" |
    grep -v '^go.etcd.io/etcd$\|^go.etcd.io/tests/v3$' |
    while read -r module; do echo "replace ${module} => ${module} ${version}"; done
}

go_directive() { sed -n 's/^go \([0-9.]*\)$/\1/p' "$1"; }

# build_kubernetes CMD...: build k8s.io/kubernetes/cmd/CMD for each CMD, from a module of our own
# that requires k8s.io/kubernetes and pins its staging modules.
build_kubernetes() {
  local mod_dir="${SRC_DIR}/kubernetes" gomod staging_version minor
  gomod="$(gomod_of "k8s.io/kubernetes@${KUBE_VERSION}")"
  # Staging modules (k8s.io/api, ...) are published as v0.<minor>.<patch> alongside v1.<minor>.<patch>.
  staging_version="v0.${KUBE_VERSION#v1.}"
  minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
  mkdir -p "${mod_dir}"
  {
    echo "module airflow-on-k8s/cluster/kubernetes"
    echo
    echo "go $(go_directive "${gomod}")"
    echo
    echo "require k8s.io/kubernetes ${KUBE_VERSION}"
    echo
    replaces_from "${gomod}" "${staging_version}"
  } >"${mod_dir}/go.mod"
  local pkgs=("${@/#/k8s.io/kubernetes/cmd/}")
  (cd "${mod_dir}" && step "kubernetes: resolve modules" go get "${pkgs[@]/%/@${KUBE_VERSION}}")
  # Same keys as kubernetes' hack/lib/version.sh, so the servers report the real version.
  local ldflags="-s -w" kv key val
  for kv in "gitVersion=${KUBE_VERSION}" "gitMajor=1" "gitMinor=${minor}" "gitTreeState=clean" \
    "buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; do
    key="${kv%%=*}"; val="${kv#*=}"
    ldflags+=" -X k8s.io/component-base/version.${key}=${val} -X k8s.io/client-go/pkg/version.${key}=${val}"
  done
  local pkg
  for pkg in "${pkgs[@]}"; do
    (cd "${mod_dir}" && step "${pkg##*/}" go build -tags=selinux,notest,grpcnotrace -ldflags "${ldflags}" \
      -o "${BIN_DIR}/${pkg##*/}" "${pkg}")
  done
}

build_etcd() {
  local mod_dir="${SRC_DIR}/etcd" gomod
  gomod="$(gomod_of "go.etcd.io/etcd/server/v3@${ETCD_VERSION}")"
  mkdir -p "${mod_dir}"
  {
    echo "module airflow-on-k8s/cluster/etcd"
    echo
    echo "go $(go_directive "${gomod}")"
    echo
    echo "require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}"
    echo
    replaces_from "${gomod}" "${ETCD_VERSION}"
  } >"${mod_dir}/go.mod"
  # etcd's own main.go is a one-liner over etcdmain; this is the same entry point.
  cat >"${mod_dir}/main.go" <<'EOF'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  (cd "${mod_dir}" && step "etcd: resolve modules" go mod tidy)
  (cd "${mod_dir}" && step "etcd" go build -ldflags "-s -w" -o "${BIN_DIR}/etcd" .)
}

build_coredns() {
  # CoreDNS's go.mod has no local replaces either; its main package is the module root.
  step "coredns" env GOBIN="${BIN_DIR}" go install -ldflags "-s -w" "github.com/coredns/coredns@${COREDNS_VERSION}"
}

build_pause() {
  # The pod sandbox's process, from the same Kubernetes source (build/pause/linux/pause.c), static
  # like upstream's; the real node's pause image holds just this file.
  local src
  src="$(go mod download -json "k8s.io/kubernetes@${KUBE_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  command -v gcc >/dev/null || die "gcc not found; install gcc (and libc6-dev) to build the pause binary"
  step "pause" gcc -Os -Wall -Werror -static -DVERSION="${KUBE_VERSION}-airflow-on-k8s" \
    -o "${BIN_DIR}/pause" "${src}/build/pause/linux/pause.c"
}

build_kwok() {
  # KWOK's go.mod has no local replaces, so `go install module@version` works as is.
  local ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}"
  ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION#v}"
  local cmd
  for cmd in kwok kwokctl; do
    step "${cmd}" env GOBIN="${BIN_DIR}" go install -ldflags "${ldflags}" "sigs.k8s.io/kwok/cmd/${cmd}@${KWOK_VERSION}"
  done
}

if is_cached; then
  # Only the kind node's extra binaries are missing: the same module, two more commands.
  build_kubernetes "${KIND_NODE_BINARIES[@]}"
  exit 0
fi

echo "building the local cluster (kubernetes ${KUBE_VERSION}, etcd ${ETCD_VERSION}, kwok ${KWOK_VERSION}, coredns ${COREDNS_VERSION})"
echo "into ${BIN_DIR}; a cold build takes a while, later runs reuse it"
rm -f "${STAMP}"
build_kwok
build_etcd
kube_commands=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
[[ "${KIND_NODE}" == true ]] && kube_commands+=("${KIND_NODE_BINARIES[@]}")
build_kubernetes "${kube_commands[@]}"
build_coredns
build_pause
expected_stamp >"${STAMP}"
printf 'total %ds\n' "$((SECONDS - START_ALL))" | tee -a "${TIMES}"
echo "done: ${BIN_DIR} (timings in ${TIMES})"

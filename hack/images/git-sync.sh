#!/usr/bin/env bash
# Usage: hack/images/git-sync.sh [--print-path]
# Builds the git-sync binary (the chart's pinned version, images.gitSync.tag) from its own source,
# once, into ~/.cache/airflow-on-k8s/git-sync/<version>/git-sync. docker/git-sync packs it into an
# image with Debian's git and ssh client, as upstream's image does.
#
# Where a registry is reachable nobody needs this: the chart's default image is upstream's
# registry.k8s.io/git-sync/git-sync. Here no registry is, and the Go module proxy refuses
# k8s.io/git-sync at every version (403), so the source comes from, in order:
#   1. the Go module proxy (k8s.io/git-sync@<version>), where it serves it;
#   2. a git clone of the tag from GIT_SYNC_GIT_URL (default https://github.com/kubernetes/git-sync;
#      point it at a mirror or a local checkout where GitHub is out of reach).
# git-sync vendors its dependencies, so the build itself needs no network.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../cluster/config.sh
source hack/cluster/config.sh

# The tag the chart's values.yaml pins (images.gitSync.tag): one source of truth.
VERSION="$(sed -n '/^  gitSync:/,/^  [a-z]/s/^    tag: "\(v[0-9.]*\)"$/\1/p' charts/airflow/values.yaml)"
[[ -n "${VERSION}" ]] || { echo "git-sync: no images.gitSync.tag found in charts/airflow/values.yaml" >&2; exit 1; }
OUT_DIR="${CACHE}/git-sync/${VERSION}"
BINARY="${OUT_DIR}/git-sync"
GIT_URL="${GIT_SYNC_GIT_URL:-https://github.com/kubernetes/git-sync}"

if [[ "${1:-}" == --print-path ]]; then echo "${BINARY}"; exit 0; fi
if [[ -x "${BINARY}" ]] && [[ "$("${BINARY}" --version 2>/dev/null)" == "${VERSION}" ]]; then
  echo "git-sync ${VERSION} already built: ${BINARY}"
  exit 0
fi
command -v go >/dev/null || { echo "git-sync: go not found on PATH; install Go >= 1.23 to build git-sync" >&2; exit 1; }

src="$(mktemp -d)"
trap 'chmod -R u+w "${src}" 2>/dev/null; rm -rf "${src}"' EXIT
if dir="$(GOFLAGS=-mod=mod go mod download -json "k8s.io/git-sync@${VERSION}" 2>/dev/null |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" && [[ -n "${dir}" ]]; then
  echo "git-sync: source ${VERSION} from the Go module proxy"
  cp -r "${dir}/." "${src}/"
elif git clone --quiet --depth 1 --branch "${VERSION}" -c advice.detachedHead=false "${GIT_URL}" "${src}/git-sync" 2>"${src}/clone.err"; then
  echo "git-sync: source ${VERSION} cloned from ${GIT_URL}"
  src="${src}/git-sync"
else
  cat >&2 <<EOF
git-sync: cannot get the source of git-sync ${VERSION}:
  - the Go module proxy does not serve k8s.io/git-sync@${VERSION}
  - git clone ${GIT_URL} (tag ${VERSION}) failed: $(tail -n 1 "${src}/clone.err")
Fix: set GIT_SYNC_GIT_URL to a reachable clone of https://github.com/kubernetes/git-sync
(a mirror, or a local checkout that has the tag ${VERSION}), or use a registry that serves
registry.k8s.io/git-sync/git-sync:${VERSION}.
EOF
  exit 1
fi

mkdir -p "${OUT_DIR}"
# As upstream's build/build.sh: static, the version stamped in.
(cd "${src}" && CGO_ENABLED=0 GOFLAGS=-mod=vendor go build -trimpath \
  -ldflags "-s -w -X k8s.io/git-sync/pkg/version.VERSION=${VERSION}" -o "${BINARY}.tmp" .)
mv "${BINARY}.tmp" "${BINARY}"
echo "git-sync ${VERSION} built: ${BINARY}"

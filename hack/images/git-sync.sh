#!/usr/bin/env bash
# Usage: hack/images/git-sync.sh [--print-path | --print-version]
# Builds the git-sync binary (the chart's pinned version, images.gitSync.tag) from its own source,
# once, into ~/.cache/airflow-on-k8s/git-sync/<version>/git-sync. docker/git-sync packs it into an
# image with Debian's git and ssh client, as upstream's image does.
#
# Where a registry is reachable nobody needs this: the chart's default image is upstream's
# registry.k8s.io/git-sync/git-sync. Here no registry is, and the Go module proxy refuses
# k8s.io/git-sync at every version (403), so the source comes from the first of:
#   1. the Go module proxy (k8s.io/git-sync@<version>), where it serves it;
#   2. GIT_SYNC_SOURCE, when set: a source tarball (a `git archive` of the tag, unpacking to one
#      folder), checked against GIT_SYNC_SOURCE_SHA256 or else the `<tarball>.sha256` beside it when
#      there is one; or any git URL or local clone that has the tag;
#   3. a clone of the tag from GitHub.
# git-sync vendors its dependencies, so the build itself needs no network.
set -o errexit -o nounset -o pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

case "${1:-}" in
  "" | --print-path | --print-version) ;;
  -h | --help) usage ;;
  *) usage_error "unknown argument '$1'" ;;
esac
cd "${REPO}"

# The tag the chart's values.yaml pins (images.gitSync.tag): one source of truth.
VERSION="$(sed -n '/^  gitSync:/,/^  [a-z]/s/^    tag: "\(v[0-9.]*\)"$/\1/p' charts/airflow/values.yaml)"
[[ -n "${VERSION}" ]] || die "no images.gitSync.tag found in charts/airflow/values.yaml"
OUT_DIR="${CACHE}/git-sync/${VERSION}"
BINARY="${OUT_DIR}/git-sync"
UPSTREAM="https://github.com/kubernetes/git-sync"
SOURCE="${GIT_SYNC_SOURCE:-}"

if [[ "${1:-}" == --print-path ]]; then echo "${BINARY}"; exit 0; fi
if [[ "${1:-}" == --print-version ]]; then echo "${VERSION}"; exit 0; fi
if [[ -x "${BINARY}" ]] && [[ "$("${BINARY}" --version 2>/dev/null)" == "${VERSION}" ]]; then
  echo "git-sync ${VERSION} already built: ${BINARY}"
  exit 0
fi
command -v go >/dev/null || die "go not found on PATH; install Go >= 1.23 to build git-sync"

work="$(mktemp -d)"
trap 'chmod -R u+w "${work}" 2>/dev/null; rm -rf "${work}"' EXIT
src="${work}/git-sync"
tried=()

# from_proxy: the module from the Go module proxy into ${src}.
from_proxy() {
  local dir
  if ! dir="$(GOFLAGS=-mod=mod go mod download -json "k8s.io/git-sync@${VERSION}" 2>/dev/null |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" || [[ -z "${dir}" ]]; then
    tried+=("the Go module proxy does not serve k8s.io/git-sync@${VERSION}")
    return 1
  fi
  cp -r "${dir}/." "${src}/"
}

# from_tarball FILE: unpack FILE into ${src} once its sha256 matches, when one is given.
from_tarball() {
  local file="$1" want="${GIT_SYNC_SOURCE_SHA256:-}" got
  [[ -f "${file}" ]] || { tried+=("GIT_SYNC_SOURCE=${file}: no such file"); return 1; }
  [[ -n "${want}" || ! -f "${file}.sha256" ]] || want="$(awk '{print $1; exit}' "${file}.sha256")"
  if [[ -n "${want}" ]]; then
    got="$(sha256sum "${file}" | awk '{print $1}')"
    [[ "${got}" == "${want}" ]] || {
      tried+=("GIT_SYNC_SOURCE=${file}: sha256 ${got}, expected ${want}: a different or damaged file"); return 1; }
  fi
  tar -xzf "${file}" -C "${src}" --strip-components 1 2>"${work}/tar.err" || {
    tried+=("GIT_SYNC_SOURCE=${file}: not a gzipped tarball: $(tail -n 1 "${work}/tar.err")"); return 1; }
  [[ -f "${src}/main.go" && -d "${src}/vendor" ]] || {
    tried+=("GIT_SYNC_SOURCE=${file}: no git-sync source with vendor/ inside"); return 1; }
}

# from_git URL: a shallow clone of the tag into ${src}.
from_git() {
  rm -rf "${src}"
  git clone --quiet --depth 1 --branch "${VERSION}" -c advice.detachedHead=false "$1" "${src}" 2>"${work}/clone.err" || {
    tried+=("git clone $1 (tag ${VERSION}) failed: $(tail -n 1 "${work}/clone.err")"); mkdir -p "${src}"; return 1; }
}

mkdir -p "${src}"
if from_proxy; then
  echo "git-sync: source ${VERSION} from the Go module proxy"
elif [[ "${SOURCE}" == *.tar.gz || "${SOURCE}" == *.tgz ]] && from_tarball "${SOURCE}"; then
  echo "git-sync: source ${VERSION} from the tarball ${SOURCE}"
elif [[ -n "${SOURCE}" && "${SOURCE}" != *.tar.gz && "${SOURCE}" != *.tgz ]] && from_git "${SOURCE}"; then
  echo "git-sync: source ${VERSION} cloned from ${SOURCE}"
elif from_git "${UPSTREAM}"; then
  echo "git-sync: source ${VERSION} cloned from ${UPSTREAM}"
else
  {
    echo "git-sync: cannot get the source of git-sync ${VERSION}:"
    printf '  - %s\n' "${tried[@]}"
    echo "Fix: set GIT_SYNC_SOURCE to a source tarball of the tag (git archive --prefix git-sync/ ${VERSION}, vendor/"
    echo "included; GIT_SYNC_SOURCE_SHA256 or a .sha256 file beside it to check it) or to a reachable clone of"
    echo "${UPSTREAM} that has the tag; or use a registry that serves registry.k8s.io/git-sync/git-sync:${VERSION}."
  } >&2
  exit 1
fi

mkdir -p "${OUT_DIR}"
# As upstream's build/build.sh: static, the version stamped in.
(cd "${src}" && CGO_ENABLED=0 GOFLAGS=-mod=vendor go build -trimpath \
  -ldflags "-s -w -X k8s.io/git-sync/pkg/version.VERSION=${VERSION}" -o "${BINARY}.tmp" .)
mv "${BINARY}.tmp" "${BINARY}"
echo "git-sync ${VERSION} built: ${BINARY}"

#!/usr/bin/env bash
# Usage: hack/images/versitygw.sh [--print-path]
# Builds, once, versitygw (an S3 server on a POSIX directory, Apache-2.0) from its Go module into
# ~/.cache/airflow-on-k8s/versitygw/<version>/versitygw. docker/s3-server packs it into the image
# the e2e tests run as the object store of remote task logs: a real S3 API (signatures, buckets,
# ListObjectsV2), not a mock, with nothing but the Go module proxy needed to build it.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../cluster/config.sh
source hack/cluster/config.sh

VERSION="${VERSITYGW_VERSION:-v1.8.0}"
DIR="${CACHE}/versitygw/${VERSION}"
BINARY="${DIR}/versitygw"

[[ "${1:-}" == --print-path ]] && { echo "${BINARY}"; exit 0; }
if [[ -x "${BINARY}" ]]; then
  echo "versitygw ${VERSION} already built: ${BINARY}"
  exit 0
fi
command -v go >/dev/null || { echo "versitygw: go not found on PATH; install Go >= 1.24 to build the test S3 server" >&2; exit 1; }
mkdir -p "${DIR}"
exec 9>"${DIR}/.build.lock"
flock 9
[[ -x "${BINARY}" ]] && exit 0
echo "versitygw: building ${VERSION} from the Go module proxy (about 1 min cold)"
t0=${SECONDS}
# Static, its version stamped as its Makefile does (main.Version).
CGO_ENABLED=0 GOBIN="${DIR}/.bin" nice -n 19 go install -trimpath -ldflags "-s -w -X main.Version=${VERSION}" \
  "github.com/versity/versitygw/cmd/versitygw@${VERSION}" \
  || { echo "versitygw: go install github.com/versity/versitygw/cmd/versitygw@${VERSION} failed (see above): check that the Go module proxy is reachable (GOPROXY)" >&2; exit 1; }
mv "${DIR}/.bin/versitygw" "${BINARY}"
rmdir "${DIR}/.bin"
echo "versitygw ${VERSION} built in $((SECONDS - t0))s: ${BINARY}"

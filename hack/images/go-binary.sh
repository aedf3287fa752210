#!/usr/bin/env bash
# Usage: hack/images/go-binary.sh NAME [--print-path]
# Builds, once, a Go program an image packs, from its module on the Go module proxy, into
# ~/.cache/airflow-on-k8s/<name>/<version>/<name>: static (CGO_ENABLED=0), -trimpath, its version
# stamped as upstream's release builds stamp it. --print-path prints where the binary is (or will be).
# NAME is one of these (VERSITYGW_VERSION and STATSD_EXPORTER_VERSION override their versions):
#   versitygw         v1.8.0    an S3 server on a POSIX directory (Apache-2.0), for the tests'
#                               remote task logs: a real S3 API, not a mock (docker/s3-server)
#   statsd_exporter   v0.31.0   Prometheus' statsd_exporter (Apache-2.0): Airflow's StatsD metrics
#                               as Prometheus metrics, for the chart's metrics.enabled (docker/statsd-exporter)
#   prometheus        v0.316.0  Prometheus 3.16.0 (Apache-2.0), the server the metrics e2e tests run in
#                               the cluster (docker/prometheus); about 4 minutes cold
#   promtool          v0.316.0  its promtool: the tests check and unit-test the chart's alert rules with it
set -o errexit -o nounset -o pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

case "${1:-}" in
  -h | --help) usage ;;
esac
cd "${REPO}"
NAME="${1:-}"
PRINT_PATH=false
case "${2:-}" in
  "") ;;
  --print-path) PRINT_PATH=true ;;
  *) usage_error "unknown argument '$2'" ;;
esac

# The table: VERSION, PACKAGE (the main package, at that version) and the -X flags of its release builds.
case "${NAME}" in
  versitygw)
    VERSION="${VERSITYGW_VERSION:-v1.8.0}"
    PACKAGE=github.com/versity/versitygw/cmd/versitygw
    STAMP="-X main.Version=${VERSION}" # as its Makefile does
    ;;
  statsd_exporter)
    VERSION="${STATSD_EXPORTER_VERSION:-v0.31.0}"
    PACKAGE=github.com/prometheus/statsd_exporter
    # As its .promu.yml does, into prometheus/common's version package (its VERSION file has no "v");
    # the module proxy knows no commit, so the revision says "unknown".
    v=github.com/prometheus/common/version
    STAMP="-X ${v}.Version=${VERSION#v} -X ${v}.Branch=HEAD -X ${v}.BuildUser=airflow-on-k8s"
    STAMP+=" -X ${v}.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)"
    ;;
  prometheus | promtool)
    # Prometheus' Go module numbers release 3.X.Y as v0.3XX.Y: v0.316.0 is Prometheus 3.16.0. Built
    # here because Debian's package leaves Kubernetes service discovery out. Without the UI's
    # JavaScript assets (the `builtinassets` tag): the HTTP API, rules and scraping are all there.
    VERSION="${PROMETHEUS_VERSION:-v0.316.0}"
    RELEASE="${PROMETHEUS_RELEASE:-3.16.0}" # what it calls itself: set both to change version
    PACKAGE="github.com/prometheus/prometheus/cmd/${NAME}"
    v=github.com/prometheus/common/version
    STAMP="-X ${v}.Version=${RELEASE} -X ${v}.Branch=HEAD -X ${v}.BuildUser=airflow-on-k8s"
    STAMP+=" -X ${v}.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)"
    ;;
  *) usage_error "NAME is versitygw, statsd_exporter, prometheus or promtool" ;;
esac
PROG="${NAME}" # its messages name what it builds

DIR="${CACHE}/${NAME}/${VERSION}"
BINARY="${DIR}/${NAME}"
[[ "${PRINT_PATH}" == true ]] && { echo "${BINARY}"; exit 0; }
if [[ -x "${BINARY}" ]]; then
  echo "${NAME} ${VERSION} already built: ${BINARY}"
  exit 0
fi
command -v go >/dev/null || die "go not found on PATH; install Go >= 1.25 to build ${PACKAGE}"
mkdir -p "${DIR}"
exec 9>"${DIR}/.build.lock"
flock 9
[[ -x "${BINARY}" ]] && exit 0 # another build finished it while this one waited
echo "${NAME}: building ${VERSION} from the Go module proxy (a minute or a few, cold)"
t0=${SECONDS}
CGO_ENABLED=0 GOBIN="${DIR}/.bin" nice -n 19 go install -trimpath -ldflags "-s -w ${STAMP}" "${PACKAGE}@${VERSION}" \
  || die "go install ${PACKAGE}@${VERSION} failed (see above): check that the Go module proxy is reachable (GOPROXY) and serves that version"
mv "${DIR}/.bin/$(basename "${PACKAGE}")" "${BINARY}"
rmdir "${DIR}/.bin"
echo "${NAME} ${VERSION} built in $((SECONDS - t0))s: ${BINARY}"

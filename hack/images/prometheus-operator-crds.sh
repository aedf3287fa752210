#!/usr/bin/env bash
# Usage: hack/images/prometheus-operator-crds.sh [--print-path]
# Gets, once, the Prometheus Operator's CustomResourceDefinitions for ServiceMonitor and
# PrometheusRule (monitoring.coreos.com/v1) from its Go module on the Go module proxy, and keeps the
# two files in ~/.cache/airflow-on-k8s/prometheus-operator-crds/<version>/: the e2e tests install
# them so the chart's ServiceMonitor and PrometheusRule reach a real API server. The go command checks
# the module against the checksum database (GOSUMDB, through the proxy); this script then checks it
# against the sum pinned below too, so GONOSUMDB, GOPRIVATE or GOSUMDB=off cannot let another in.
# --print-path prints the folder holding the two files, getting them first if need be; everything
# else this script says goes to stderr.
set -o errexit -o nounset -o pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

# The newest version of the root module the proxy serves, and its go.sum hash.
MODULE=github.com/prometheus-operator/prometheus-operator
VERSION=v0.85.0
SUM=h1:M5xLCLEoaW2IJfnuCwFzzpL+jSVQu3KGT84Pye+fW8s=
FILES=(monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_prometheusrules.yaml)

case "${1:-}" in
  "") PRINT=false ;;
  --print-path) PRINT=true ;;
  -h | --help) usage ;;
  *) usage_error "unknown argument '$1'" ;;
esac
cd "${REPO}"
exec 3>&1 1>&2 # stdout is for the path asked for

DIR="${CACHE}/prometheus-operator-crds/${VERSION}"
got() { [[ -s "${DIR}/${FILES[0]}" && -s "${DIR}/${FILES[1]}" ]]; }

if ! got; then
  command -v go >/dev/null || die "go not found on PATH; install Go to get ${MODULE}@${VERSION} from the module proxy"
  mkdir -p "${DIR}"
  exec 9>"${DIR}/.lock"
  flock 9
fi
if ! got; then
  t0=${SECONDS}
  # Into the go command's own module cache (where the Go builds' modules are too; go clean -modcache
  # empties it): only the two files are kept here.
  json="$(go mod download -json "${MODULE}@${VERSION}")" \
    || die "go mod download ${MODULE}@${VERSION} failed: ${json:-see above}; check that the Go module proxy is reachable (GOPROXY)"
  read -r dir sum < <(python3 -c 'import json, sys; m = json.load(sys.stdin); print(m["Dir"], m["Sum"])' <<<"${json}")
  [[ "${sum}" == "${SUM}" ]] || die "${MODULE}@${VERSION} has hash ${sum}, expected ${SUM}: refusing it"
  for file in "${FILES[@]}"; do
    install -m 0644 "${dir}/example/prometheus-operator-crd/${file}" "${DIR}/${file}.tmp"
  done
  for file in "${FILES[@]}"; do mv "${DIR}/${file}.tmp" "${DIR}/${file}"; done
  echo "prometheus-operator-crds: ${MODULE}@${VERSION}'s ServiceMonitor and PrometheusRule CRDs kept in ${DIR} ($((SECONDS - t0))s)"
fi
if [[ "${PRINT}" == true ]]; then
  echo "${DIR}" >&3
else
  echo "prometheus-operator-crds: ${VERSION} in ${DIR}: ${FILES[*]}"
fi

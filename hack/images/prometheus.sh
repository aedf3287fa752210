#!/usr/bin/env bash
# Usage: hack/images/prometheus.sh [--print-path | --print-promtool]
# Gets, once, Debian's Prometheus (bookworm's `prometheus` package: 2.42, the server and promtool)
# through apt (`apt-get download`: the host's mirror, checked against its signed package lists) and
# keeps the two binaries in ~/.cache/airflow-on-k8s/prometheus/<Debian version>/. docker/prometheus
# packs the server into the image the e2e tests run as a real Prometheus in the cluster; the tests run
# promtool on the host. Both are Go binaries that need only glibc (>= 2.34).
# --print-path prints the server's path, --print-promtool promtool's, getting them first if need be;
# everything else this script says goes to stderr.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../cluster/config.sh
source hack/cluster/config.sh

case "${1:-}" in
  "") PRINT="" ;;
  --print-path) PRINT=prometheus ;;
  --print-promtool) PRINT=promtool ;;
  *) echo "usage: hack/images/prometheus.sh [--print-path | --print-promtool]" >&2; exit 2 ;;
esac
exec 3>&1 1>&2 # stdout is for the path asked for

ROOT="${CACHE}/prometheus"
die() { echo "prometheus: $*" >&2; exit 1; }
# kept: the folder of the newest version kept here, or nothing (a folder appears whole, by a rename).
kept() { find "${ROOT}" -mindepth 2 -maxdepth 2 -name promtool -printf '%h\n' | sort -V | tail -n 1; }

mkdir -p "${ROOT}"
DIR="$(kept)"
if [[ -z "${DIR}" ]]; then
  if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
    die "needs apt-get and dpkg-deb (Debian or Ubuntu) to get the prometheus package"
  fi
  exec 9>"${ROOT}/.lock"
  flock 9
  DIR="$(kept)" # another run may have got it while this one waited
fi
if [[ -z "${DIR}" ]]; then
  t0=${SECONDS}
  tmp="$(mktemp -d "${ROOT}/.get.XXXXXX")"
  trap 'rm -rf "${tmp}"' EXIT
  # As root apt downloads as its sandbox user, who cannot write to root's cache: download as root.
  apt_options=()
  [[ "$(id -u)" == 0 ]] && apt_options=(-o APT::Sandbox::User=root)
  download() { (cd "${tmp}" && apt-get "${apt_options[@]}" download prometheus); }
  if ! download; then
    # A machine whose package lists were never fetched (or are too old to name a file the mirror still has).
    echo "prometheus: apt-get download failed; updating the package lists (apt-get update) and trying again"
    apt-get update -qq || die "apt-get update failed (it needs root and the Debian mirror)"
    download || die "apt-get download prometheus failed (see above)"
  fi
  deb=("${tmp}"/prometheus_*.deb)
  version="$(dpkg-deb --field "${deb[0]}" Version)"
  dpkg-deb -x "${deb[0]}" "${tmp}/deb"
  mkdir "${tmp}/bin"
  mv "${tmp}/deb/usr/bin/prometheus" "${tmp}/deb/usr/bin/promtool" "${tmp}/bin/"
  mv "${tmp}/bin" "${ROOT}/${version}"
  DIR="${ROOT}/${version}"
  echo "prometheus: Debian's ${version} kept in ${DIR} ($((SECONDS - t0))s)"
fi
if [[ -n "${PRINT}" ]]; then
  echo "${DIR}/${PRINT}" >&3
else
  echo "prometheus: $("${DIR}/prometheus" --version 2>&1 | head -n 1), in ${DIR}"
fi

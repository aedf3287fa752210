#!/usr/bin/env bash
# Usage: hack/images/debian-rootfs.sh [--print-path]
# Builds, once, a minimal Debian bookworm root filesystem with debootstrap and packs it as a tarball
# that `docker import` turns into the local base image every image of this repo starts from (no
# registry is needed). Cached in ${XDG_CACHE_HOME:-~/.cache}/airflow-on-k8s/images/; a warm run
# does nothing. Needs root (debootstrap chroots) and the debootstrap package.
set -o errexit -o nounset -o pipefail

SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${XDG_CACHE_HOME:-${HOME}/.cache}/airflow-on-k8s/images"
TARBALL="${CACHE}/debian-${SUITE}-minbase.tar"

die() { echo "debian-rootfs: $*" >&2; exit 1; }

case "${1:-}" in
  "") ;;
  --print-path) echo "${TARBALL}"; exit 0 ;;
  -h|--help) sed -n '2,6s/^# \{0,1\}//p' "$0"; exit 0 ;;
  *) die "unknown argument '$1'; run with --help for usage" ;;
esac

[[ -s "${TARBALL}" ]] && { echo "debian-rootfs: ${TARBALL} already built"; exit 0; }
[[ "$(id -u)" == 0 ]] || die "debootstrap needs root: run as root, or build the images with Docker from the official bases"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"

mkdir -p "${CACHE}"
exec 9>"${CACHE}/.debian-rootfs.lock"
flock 9
[[ -s "${TARBALL}" ]] && { echo "debian-rootfs: ${TARBALL} already built"; exit 0; }

ROOTFS="$(mktemp -d "${CACHE}/rootfs.XXXXXX")"
trap 'rm -rf "${ROOTFS}"' EXIT
echo "debian-rootfs: debootstrap ${SUITE} (minbase) from ${MIRROR}; takes a few minutes, once"
t0=${SECONDS}
debootstrap --variant=minbase "${SUITE}" "${ROOTFS}" "${MIRROR}" >"${CACHE}/debootstrap.log" 2>&1 \
  || die "debootstrap failed; last lines of ${CACHE}/debootstrap.log: $(tail -n 3 "${CACHE}/debootstrap.log" | tr '\n' ' ')"
# Images need no package lists or caches; apt in a Dockerfile fetches fresh lists.
rm -rf "${ROOTFS}"/var/lib/apt/lists/* "${ROOTFS}"/var/cache/apt/*.bin "${ROOTFS}"/var/cache/apt/archives/*.deb
tar --numeric-owner --xattrs -C "${ROOTFS}" -cf "${TARBALL}.tmp" .
mv "${TARBALL}.tmp" "${TARBALL}"
echo "debian-rootfs: ${TARBALL} ($(du -h "${TARBALL}" | cut -f1)) in $((SECONDS - t0)) s"

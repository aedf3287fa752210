#!/usr/bin/env bash
# Usage: hack/images/debian-rootfs.sh [--print-path]
# Builds, once, a minimal Debian bookworm root filesystem with debootstrap and packs it as a tarball
# that `docker import` turns into the local base image every image of this repo starts from (no
# registry is needed). Cached in ${XDG_CACHE_HOME:-~/.cache}/airflow-on-k8s/images/; a warm run
# does nothing. Needs root (debootstrap chroots) and the debootstrap package.
set -o errexit -o nounset -o pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
IMAGES_CACHE="${CACHE}/images"
TARBALL="${IMAGES_CACHE}/debian-${SUITE}-minbase.tar"

case "${1:-}" in
  "") ;;
  --print-path) echo "${TARBALL}"; exit 0 ;;
  -h | --help) usage ;;
  *) usage_error "unknown argument '$1'" ;;
esac

[[ -s "${TARBALL}" ]] && { echo "debian-rootfs: ${TARBALL} already built"; exit 0; }
[[ "$(id -u)" == 0 ]] || die "debootstrap needs root: run as root, or build the images with Docker from the official bases"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"

mkdir -p "${IMAGES_CACHE}"
exec 9>"${IMAGES_CACHE}/.debian-rootfs.lock"
flock 9
[[ -s "${TARBALL}" ]] && { echo "debian-rootfs: ${TARBALL} already built"; exit 0; }

rootfs="$(mktemp -d "${IMAGES_CACHE}/rootfs.XXXXXX")"
trap 'rm -rf "${rootfs}"' EXIT
echo "debian-rootfs: debootstrap ${SUITE} (minbase) from ${MIRROR}; takes a few minutes, once"
t0=${SECONDS}
debootstrap --variant=minbase "${SUITE}" "${rootfs}" "${MIRROR}" >"${IMAGES_CACHE}/debootstrap.log" 2>&1 \
  || die "debootstrap failed; last lines of ${IMAGES_CACHE}/debootstrap.log: $(tail -n 3 "${IMAGES_CACHE}/debootstrap.log" | tr '\n' ' ')"
# Images need no package lists or caches; apt in a Dockerfile fetches fresh lists.
rm -rf "${rootfs}"/var/lib/apt/lists/* "${rootfs}"/var/cache/apt/*.bin "${rootfs}"/var/cache/apt/archives/*.deb
tar --numeric-owner --xattrs -C "${rootfs}" -cf "${TARBALL}.tmp" .
mv "${TARBALL}.tmp" "${TARBALL}"
echo "debian-rootfs: ${TARBALL} ($(du -h "${TARBALL}" | cut -f1)) in $((SECONDS - t0)) s"

#!/usr/bin/env bash
# Usage: hack/cluster/packages.sh [--check]
# Makes sure the Debian packages the real node and the local image builds need are installed:
# containerd, runc, the CNI plugins, iptables, nftables (kube-proxy's mode), ipset (kube-router's policies), conntrack, a static busybox (the volume scrubber's
# image), docker.io (dockerd, for building images) and debootstrap. As root it installs the missing ones with apt-get, saying which and why, without
# starting their services (the node runs its own containerd); otherwise it names them and exits 1.
#   --check  only report: exit 0 when everything is there, 1 (with the list) when not
set -o errexit -o nounset -o pipefail
# shellcheck source=config.sh
source "$(dirname "$0")/config.sh"

# What each package must provide, as a file a working install has.
declare -A PROVIDES=(
  [containerd]=/usr/bin/containerd
  [runc]=/usr/sbin/runc
  [containernetworking-plugins]=/usr/lib/cni/bridge
  [iptables]=/usr/sbin/iptables
  [nftables]=/usr/sbin/nft
  [ipset]=/usr/sbin/ipset
  [conntrack]=/usr/sbin/conntrack
  [busybox-static]=/bin/busybox
  [docker.io]=/usr/sbin/dockerd
  [debootstrap]=/usr/sbin/debootstrap
)

missing=()
for pkg in "${NODE_PACKAGES[@]}"; do
  [[ -e "${PROVIDES[${pkg}]}" ]] || missing+=("${pkg}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
[[ "${1:-}" == --check ]] && { echo "missing Debian packages: ${missing[*]}"; exit 1; }

if [[ "$(id -u)" != 0 ]]; then
  echo "packages: the real node needs these Debian packages, and installing them needs root: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
command -v apt-get >/dev/null || {
  echo "packages: no apt-get here: install ${missing[*]} (or their equivalents) with your package manager" >&2; exit 1; }

echo "packages: installing ${missing[*]} with apt-get (the real node runs containers with them; their own services are not started)"
# policy-rc.d tells the packages' scripts not to start their daemons; removed again afterwards.
policy=/usr/sbin/policy-rc.d
created_policy=false
if [[ ! -e "${policy}" ]]; then
  printf '#!/bin/sh\nexit 101\n' >"${policy}"
  chmod +x "${policy}"
  created_policy=true
fi
trap '[[ "${created_policy}" == true ]] && rm -f "${policy}"' EXIT
log="$(mktemp)"
if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"${log}" 2>&1; then
  echo "packages: apt-get could not install ${missing[*]}; its last lines:" >&2
  tail -n 5 "${log}" >&2
  exit 1
fi
rm -f "${log}"
echo "packages: installed ${missing[*]}"

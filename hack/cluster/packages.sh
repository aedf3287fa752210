#!/usr/bin/env bash
# Usage: hack/cluster/packages.sh [--check]
# Makes sure the Debian packages the real node and the local image builds need are installed:
# containerd, runc, the CNI plugins, iptables, nftables (kube-proxy's mode), ipset (kube-router's policies), conntrack, a static busybox (the volume scrubber's
# image), docker.io (dockerd, for building images) and debootstrap. As root it installs the missing ones with apt-get, saying which and why, without
# starting their services (the node runs its own containerd); otherwise it names them and exits 1.
#   --check  only report: exit 0 when everything is there, 1 (with the list) when not
set -o errexit -o nounset -o pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=config.sh
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

CHECK=false
case "${1:-}" in
  "") ;;
  --check) CHECK=true ;;
  -h | --help) usage ;;
  *) usage_error "unknown argument '$1'" ;;
esac

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
[[ "${CHECK}" == true ]] && { echo "missing Debian packages: ${missing[*]}"; exit 1; }

[[ "$(id -u)" == 0 ]] \
  || die "the real node needs these Debian packages, and installing them needs root: sudo apt-get install ${missing[*]}"
command -v apt-get >/dev/null \
  || die "no apt-get here: install ${missing[*]} (or their equivalents) with your package manager"

echo "packages: installing ${missing[*]} with apt-get (the real node runs containers with them; their own services are not started)"
# policy-rc.d tells the packages' scripts not to start their daemons; removed again afterwards.
POLICY_RC=/usr/sbin/policy-rc.d
created_policy=false
if [[ ! -e "${POLICY_RC}" ]]; then
  printf '#!/bin/sh\nexit 101\n' >"${POLICY_RC}"
  chmod +x "${POLICY_RC}"
  created_policy=true
fi
trap '[[ "${created_policy}" == true ]] && rm -f "${POLICY_RC}"' EXIT
apt_install "${missing[@]}" || exit 1 # it said why
echo "packages: installed ${missing[*]}"

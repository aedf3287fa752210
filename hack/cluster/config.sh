# shellcheck shell=bash
# shellcheck disable=SC2034 # the settings below are read by the scripts that source this file
# Sourced by the hack/cluster scripts (and hack/images/build.sh, which loads images into the real
# node), after hack/lib/common.sh: the local cluster's names, addresses and places, in one spot. It
# sources the library itself too (it needs REPO and CACHE), so a test may source this file alone.

# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

CLUSTER_NAME="${LOCAL_CLUSTER_NAME:-airflow-on-k8s}"
KUBECONFIG_PATH="${LOCAL_KUBECONFIG:-${REPO}/.kube/local-control-plane.yaml}"
# kind, with Docker (kind/): its default node image is the v1.35 one pinned in kind/cluster.yaml, and
# its module's base-image files are what kind/node-image.sh builds a node image from.
KIND_VERSION=v0.31.0
# kwokctl keeps each cluster (pid files, logs, PKI, etcd data) here.
KWOK_CLUSTER_DIR="${KWOK_WORKDIR:-${HOME}/.kwok}/clusters/${CLUSTER_NAME}"

# --- the real node (one per host: it owns host ports 10250, 10249, 10256 and the KUBE-* chains)
NODE_NAME="${CLUSTER_NAME}-node"
# The pods' bridge. Its gateway address is also the node's address and the API server's: pods
# cannot reach the host's 127.0.0.1, and this address is on the host, so pods and host both reach it.
BRIDGE=aok8s0
POD_CIDR=10.244.0.0/24
NODE_IP=10.244.0.1
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10
CLUSTER_DOMAIN=cluster.local
# The API server's port with a real node, chosen once per host (a free one) and kept, so the
# node's firewall rule and the cluster's configuration stay the same across restarts.
API_PORT_FILE="${CACHE}/cluster/config/apiserver-port"
api_port() {
  if [[ ! -s "${API_PORT_FILE}" ]]; then
    mkdir -p "$(dirname "${API_PORT_FILE}")"
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' >"${API_PORT_FILE}"
  fi
  cat "${API_PORT_FILE}"
}
# The CNI network's name: CNI's own cache files carry it.
CNI_NETWORK=airflow-on-k8s

# Node state that must go on `make cluster-down`: kubelet root, pod logs, CNI config and IPAM, PKI.
NODE_STATE=/var/lib/airflow-on-k8s/node
# Runtime state: sockets, pid files, containerd's and runc's state, network namespaces.
NODE_RUN=/run/airflow-on-k8s/node
# containerd's content and snapshots: the images built here, kept across cluster-down like other
# build products (cluster-down removes the containers, never the images).
CONTAINERD_ROOT="${CACHE}/node/containerd"
CONTAINERD_SOCKET="${NODE_RUN}/containerd/containerd.sock"
NODE_LOGS="${CACHE}/logs/node"
# Images assembled from single static binaries at node start (hack/images/scratch_image.py): the
# pod sandbox (Kubernetes' own pause.c) and the volume scrubber (Debian's static busybox).
PAUSE_IMAGE=docker.io/airflow-on-k8s/pause:3.10
BUSYBOX_IMAGE=docker.io/airflow-on-k8s/busybox:1.35.0
# hostPath PersistentVolumes offered on the node (under NODE_STATE/volumes).
VOLUMES=8

# The real node's NetworkPolicy engine: kube-router's firewall (default), or none (the bridge CNI
# alone enforces no policy). NETWORK_POLICY_ENGINE=none make cluster-up runs without one.
NETWORK_POLICY_ENGINE="${NETWORK_POLICY_ENGINE:-kube-router}"
case "${NETWORK_POLICY_ENGINE}" in
  kube-router | none) ;;
  *) echo "NETWORK_POLICY_ENGINE=${NETWORK_POLICY_ENGINE} is not known: use kube-router (the default) or none" >&2; exit 2 ;;
esac

# Debian packages the real node and the image builds need, and the command each provides.
NODE_PACKAGES=(containerd runc containernetworking-plugins iptables nftables ipset conntrack busybox-static docker.io debootstrap)

# render FILE: print FILE with every @@NAME@@ replaced by the value of shell variable NAME (the
# variables above, plus any the caller sets); an unknown name is an error, not an empty string.
render() {
  local file="$1" name out
  out="$(cat "${file}")"
  for name in $(grep -o '@@[A-Z_]*@@' "${file}" | sort -u | tr -d @); do
    [[ -n "${!name+set}" ]] || { echo "render: ${file} uses @@${name}@@, which is not set" >&2; return 1; }
    out="${out//@@${name}@@/${!name}}"
  done
  printf '%s\n' "${out}"
}

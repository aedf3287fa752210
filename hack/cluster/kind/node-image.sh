#!/usr/bin/env bash
# Usage: hack/cluster/kind/node-image.sh [--no-cache | --print-image | --print-config]
# Builds, once, a kind node image for this repo's Kubernetes version where kind's own (kindest/node,
# pinned in cluster.yaml) cannot be pulled: no registry is reachable. From what this repo already
# builds and Debian's packages, the way kind's node-image build assembles one:
#   1. kind's base image (base.Dockerfile): Debian bookworm, systemd, containerd and runc, and kind's
#      own files from the kind module (the version up.sh installs), through the Go module proxy;
#   2. the Kubernetes images kubeadm runs, each from a binary hack/cluster/build.sh built from source:
#      kube-apiserver, -controller-manager, -scheduler, etcd and CoreDNS as single-binary images,
#      kube-proxy on Debian (kube-proxy.Dockerfile), the pause binary as the pod sandbox;
#   3. a base container with kubeadm, kubelet and kubectl in /usr/bin, /kind/version, the CNI
#      (ptp + host-local, one node) and storage manifests, and those images imported into its
#      containerd (pinned, not unpacked), committed as airflow-on-k8s/kind-node:<version>.
# Needs a Docker daemon: the user's, or the private one hack/images/dockerd.sh starts (left running,
# as the kind cluster runs on it). A label records what the image was built from; a change rebuilds it.
# --no-cache rebuilds it with no Docker layer reused (the cold figure make bench records).
# --print-image prints the image's name; --print-config writes the kind config for it (from
# cluster-local-node.yaml) and prints that file's path. Neither builds anything.
set -o errexit -o nounset -o pipefail
# shellcheck source=../../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../config.sh
source "${HERE}/../config.sh"

BIN_DIR="$("${HERE}/../build.sh" --print-bin-dir)"
KUBE_VERSION="$(basename "$(dirname "${BIN_DIR}")")"
IMAGE="airflow-on-k8s/kind-node:${KUBE_VERSION}"
BASE_IMAGE="airflow-on-k8s/kind-base:${KIND_VERSION}"
# kubeadm's images for this version, except the two this repo builds at other versions: the node's
# kubeadm config (cluster-local-node.yaml) names those tags.
ETCD_IMAGE="registry.k8s.io/etcd:$(sed -n 's/^etcd=v//p' "${BIN_DIR}/VERSIONS" 2>/dev/null || echo unknown)"
COREDNS_IMAGE="registry.k8s.io/coredns/coredns:$(sed -n 's/^coredns=//p' "${BIN_DIR}/VERSIONS" 2>/dev/null || echo unknown)"
VOLUMES=8
WORK="${CACHE}/kind/node-image"
TIMES="${CACHE}/kind/node-image-times.txt"

print_config() {
  local config="${CACHE}/kind/cluster-local-node.yaml"
  mkdir -p "$(dirname "${config}")"
  NODE_IMAGE="${IMAGE}" ETCD_TAG="${ETCD_IMAGE##*:}" COREDNS_TAG="${COREDNS_IMAGE##*:}" \
    render "${HERE}/cluster-local-node.yaml" >"${config}"
  echo "${config}"
}

CACHE_ARGS=()
case "${1:-}" in
  "") ;;
  --no-cache) CACHE_ARGS=(--no-cache) ;;
  --print-image) echo "${IMAGE}"; exit 0 ;;
  --print-config) print_config; exit 0 ;;
  -h | --help) usage ;;
  *) usage_error "unknown argument '$1'" ;;
esac

use_docker || exit 1 # it said why; DOCKER is the client for that daemon
export DOCKER_BUILDKIT=1

# What the image is built from: a change to any of these rebuilds it.
"${HERE}/../build.sh" --kind-node
inputs="$(cat "$0" "${HERE}"/{base,kube-proxy}.Dockerfile "${HERE}"/default-{cni,storage}.yaml "${HERE}/volume.yaml" \
  "${BIN_DIR}/VERSIONS" <(find "${HERE}/node-files" -type f | sort | xargs cat) | sha256sum | cut -c1-16)"
inputs+="-${KIND_VERSION}"
if [[ ${#CACHE_ARGS[@]} -eq 0 && "$("${DOCKER[@]}" image inspect -f '{{index .Config.Labels "airflow-on-k8s.inputs"}}' "${IMAGE}" 2>/dev/null)" == "${inputs}" ]]; then
  echo "node-image: ${IMAGE} is built (inputs ${inputs})"
  exit 0
fi
mkdir -p "${CACHE}/kind"
exec 9>"${CACHE}/kind/.node-image.lock"
flock 9
mkdir -p "${WORK}"
: >"${TIMES}"
step_start=${SECONDS}
step() { printf '%s %ds\n' "$1" "$((SECONDS - step_start))" >>"${TIMES}"; step_start=${SECONDS}; }
all_start=${SECONDS}
echo "node-image: building ${IMAGE} (kind ${KIND_VERSION}, Kubernetes ${KUBE_VERSION}); a few minutes, once"

# 1. kind's base image. Its files come from the kind module (Go's module cache, checksum-verified);
# staged with kind's modes (scripts 0755, the rest 0644), then this repo's additions on top.
command -v go >/dev/null || die "go is needed to fetch kind ${KIND_VERSION}'s files from the Go module proxy: install Go"
KIND_SRC="$(go mod download -json "sigs.k8s.io/kind@${KIND_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -d "${KIND_SRC}/images/base/files" ]] || die "kind ${KIND_VERSION}'s module has no images/base/files (got '${KIND_SRC}')"
CONTEXT="${WORK}/base-context"
rm -rf "${CONTEXT}"
mkdir -p "${CONTEXT}"
cp -r "${KIND_SRC}/images/base/files" "${CONTEXT}/files"
cp -r "${HERE}/node-files/." "${CONTEXT}/files/"
chmod -R u+w "${CONTEXT}"
find "${CONTEXT}/files" -type d -exec chmod 0755 {} +
find "${CONTEXT}/files" -type f -exec chmod 0644 {} +
chmod 0755 "${CONTEXT}/files/usr/local/bin/"* "${CONTEXT}/files/kind/bin/"*
cp "${HERE}/base.Dockerfile" "${CONTEXT}/Dockerfile"
if [[ "$(id -u)" == 0 ]] && "${REPO}/hack/images/debian-rootfs.sh" >/dev/null; then
  # The Debian root filesystem the project's other local images start from (no registry needed).
  "${DOCKER[@]}" image inspect airflow-on-k8s/debian:bookworm >/dev/null 2>&1 \
    || "${DOCKER[@]}" import "$("${REPO}/hack/images/debian-rootfs.sh" --print-path)" airflow-on-k8s/debian:bookworm >/dev/null
  DEBIAN_IMAGE=airflow-on-k8s/debian:bookworm
else
  DEBIAN_IMAGE=debian:bookworm-slim
fi
"${DOCKER[@]}" build --network host --quiet "${CACHE_ARGS[@]}" --build-arg "DEBIAN_IMAGE=${DEBIAN_IMAGE}" \
  --build-arg "PAUSE_IMAGE=${PAUSE_IMAGE}" --tag "${BASE_IMAGE}" "${CONTEXT}" >/dev/null \
  || die "building ${BASE_IMAGE} failed; run '${DOCKER[*]} build ${CONTEXT}' to see why"
step base

# 2. The images kubeadm runs, as docker-archive tarballs.
IMAGES_DIR="${WORK}/images"
rm -rf "${IMAGES_DIR}"
mkdir -p "${IMAGES_DIR}"
scratch() { # scratch TAG BINARY ARGS...: a single-binary image (hack/images/scratch_image.py)
  local tag="$1" binary="$2"
  shift 2
  python3 "${REPO}/hack/images/scratch_image.py" "${IMAGES_DIR}/$(basename "${binary}").tar" "${tag}" "${binary}" "$@"
}
for component in kube-apiserver kube-controller-manager kube-scheduler; do
  scratch "registry.k8s.io/${component}:${KUBE_VERSION}" "${BIN_DIR}/${component}" --user 0:0 --path /
done
scratch "${ETCD_IMAGE}" "${BIN_DIR}/etcd" --user 0:0 --path /
scratch "${COREDNS_IMAGE}" "${BIN_DIR}/coredns" --user 0:0
scratch "${PAUSE_IMAGE}" "${BIN_DIR}/pause"
mkdir -p "${WORK}/kube-proxy-context"
cp "${BIN_DIR}/kube-proxy" "${WORK}/kube-proxy-context/"
"${DOCKER[@]}" build --network host --quiet "${CACHE_ARGS[@]}" --build-arg "DEBIAN_IMAGE=${DEBIAN_IMAGE}" \
  --file "${HERE}/kube-proxy.Dockerfile" --tag "registry.k8s.io/kube-proxy:${KUBE_VERSION}" "${WORK}/kube-proxy-context" >/dev/null \
  || die "building kube-proxy's image failed; see '${DOCKER[*]} build --file ${HERE}/kube-proxy.Dockerfile ${WORK}/kube-proxy-context'"
"${DOCKER[@]}" save "registry.k8s.io/kube-proxy:${KUBE_VERSION}" >"${IMAGES_DIR}/kube-proxy.tar"
step images

# 3. The node: binaries, version, manifests and images into a base container, then committed.
BUILD_CONTAINER="airflow-on-k8s-kind-node-build"
"${DOCKER[@]}" rm -f "${BUILD_CONTAINER}" >/dev/null 2>&1 || true
trap '"${DOCKER[@]}" rm -f "${BUILD_CONTAINER}" >/dev/null 2>&1 || true' EXIT
"${DOCKER[@]}" run -d --name "${BUILD_CONTAINER}" --privileged --entrypoint sleep "${BASE_IMAGE}" infinity >/dev/null
in_node() { "${DOCKER[@]}" exec -i "${BUILD_CONTAINER}" "$@"; }
for binary in kubeadm kubelet kubectl; do
  "${DOCKER[@]}" cp "${BIN_DIR}/${binary}" "${BUILD_CONTAINER}:/usr/bin/${binary}"
done
in_node sh -c "echo ${KUBE_VERSION} >/kind/version && mkdir -p /kind/manifests"
in_node sh -c 'cat >/kind/manifests/default-cni.yaml' <"${HERE}/default-cni.yaml"
{
  cat "${HERE}/default-storage.yaml"
  for ((VOLUME_INDEX = 0; VOLUME_INDEX < VOLUMES; VOLUME_INDEX++)); do
    echo "---"
    render "${HERE}/volume.yaml"
  done
} | in_node sh -c 'cat >/kind/manifests/default-storage.yaml'
in_node sh -c "for i in \$(seq 0 $((VOLUMES - 1))); do mkdir -p /kind-volumes/pv-\$i; done; chmod 1777 /kind-volumes/pv-*"
in_node sh -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
for _ in $(seq 60); do in_node ctr version >/dev/null 2>&1 && break; sleep 0.5; done
in_node ctr version >/dev/null 2>&1 || die "containerd did not start in the build container: $(in_node cat /tmp/containerd.log | tail -n 5)"
for archive in "${IMAGES_DIR}"/*.tar; do
  in_node ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms \
    --no-unpack --digests - <"${archive}" >/dev/null || die "importing ${archive} into the node failed"
done
in_node pkill containerd
for _ in $(seq 20); do in_node pgrep containerd >/dev/null || break; sleep 0.5; done
in_node rm -f /tmp/containerd.log
"${DOCKER[@]}" commit --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' --change 'CMD []' \
  --change "LABEL airflow-on-k8s.inputs=${inputs}" "${BUILD_CONTAINER}" "${IMAGE}" >/dev/null
step node
printf 'total %ds\n' "$((SECONDS - all_start))" >>"${TIMES}"
echo "node-image: built ${IMAGE} in $((SECONDS - all_start))s ($(tr '\n' ' ' <"${TIMES}"))"

#!/usr/bin/env bash
# Usage: hack/images/build.sh [--bases official|local] [--no-load] [--no-cache] [IMAGE...]
# Builds the images named (default: the ones values/dev.yaml runs: airflow, task-example, postgresql):
#   airflow          airflow-on-k8s/airflow:dev               docker/airflow: the DAG bundle on an Airflow 3.3.2 base
#   task-example     airflow-on-k8s/task-example:dev          docker/task-example, also tagged test/image:1.0 (the seed's)
#   postgresql       airflow-on-k8s/postgresql:15             docker/postgresql: the chart's embedded dev database
#   git-server       airflow-on-k8s/git-server:dev            docker/git-server: a git server (https + ssh), for the tests
#   git-sync         airflow-on-k8s/git-sync:<tag>            docker/git-sync: git-sync built from source (git-sync.sh)
#   s3-server        airflow-on-k8s/s3-server:dev             docker/s3-server: versitygw, an S3 server, for the tests' remote logs
#   statsd-exporter  airflow-on-k8s/statsd-exporter:v0.31.0   docker/statsd-exporter: Prometheus' statsd_exporter, the chart's metrics.enabled
#   prometheus       airflow-on-k8s/prometheus:v3.16.0        docker/prometheus: Prometheus from its Go module, for the metrics tests
#   keycloak         airflow-on-k8s/keycloak:26.5.6           docker/keycloak: Keycloak from Maven Central, the SSO tests' identity provider
#   all              every one of them
# On the official bases (apache/airflow, python, debian) when the user's Docker daemon is reachable,
# which pulls them; otherwise on local stand-ins built here from a debootstrap root filesystem, Debian
# packages and the locked wheels, with a private dockerd (root, Linux; hack/images/dockerd.sh).
# Layers are cached, so a rebuild after a DAG change redoes only the bundle layer. When the local
# cluster's real node runs, each image it lacks (or holds an older build of) is loaded into its
# containerd. --no-cache rebuilds every layer (a cold build, for the benchmark). Build times go to the
# cache's images/build-times.txt and sizes to images/sizes.txt (make bench reads them).
set -o errexit -o nounset -o pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "${REPO}"
# The real node's settings (its containerd's socket), to load the images into it when it runs.
# shellcheck source=../cluster/config.sh
source hack/cluster/config.sh
PROG=images

BASES=""
LOAD=true
CACHE_ARGS=()
DEV_IMAGES=(airflow task-example postgresql)
ALL_IMAGES=("${DEV_IMAGES[@]}" git-server git-sync s3-server statsd-exporter prometheus keycloak)
SELECTED=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bases) BASES="${2:-}"; shift 2 ;;
    --no-load) LOAD=false; shift ;;
    --no-cache) CACHE_ARGS=(--no-cache); shift ;;
    -h | --help) usage ;;
    all) SELECTED+=("${ALL_IMAGES[@]}"); shift ;;
    -*) usage_error "unknown option '$1' (IMAGE is one of ${ALL_IMAGES[*]} all)" ;;
    *)
      [[ " ${ALL_IMAGES[*]} " == *" $1 "* ]] || usage_error "unknown image '$1' (IMAGE is one of ${ALL_IMAGES[*]} all)"
      SELECTED+=("$1"); shift ;;
  esac
done
[[ ${#SELECTED[@]} -gt 0 ]] || SELECTED=("${DEV_IMAGES[@]}")
# selected NAME: whether this run builds image NAME.
selected() { [[ " ${SELECTED[*]} " == *" $1 "* ]]; }

# The daemon: the user's if reachable, else the private one (which this script stops again if it
# started it). DOCKER is the client for it (use_docker).
started_private=false
hack/images/dockerd.sh status || started_private=true
use_docker || exit 1 # it said why
if [[ "${DOCKER[0]}" == docker ]]; then
  BASES="${BASES:-official}"
else
  # The private daemon's client keeps its state in the cache.
  export DOCKER_CONFIG="${CACHE}/docker-cli"
  BASES="${BASES:-local}"
  [[ "${started_private}" == true ]] && trap 'hack/images/dockerd.sh stop >/dev/null 2>&1 || true' EXIT
fi
[[ "${BASES}" == official || "${BASES}" == local ]] || die "--bases must be official or local, not '${BASES}'"
export DOCKER_BUILDKIT=1

TIMES="${CACHE}/images/build-times.txt"
mkdir -p "$(dirname "${TIMES}")"
: >"${TIMES}"

# record NAME START: append NAME and the seconds since START (an EPOCHREALTIME) to TIMES.
record() { awk -v name="$1" -v start="$2" -v now="${EPOCHREALTIME}" 'BEGIN {printf "%s %.1fs\n", name, now - start}' >>"${TIMES}"; }

# build NAME ARGS...: docker build with the host network (apt and pip reach their mirrors as the host
# does), timing it into TIMES.
build() {
  local name="$1" t0=${EPOCHREALTIME}
  shift
  echo "images: building ${name}"
  "${DOCKER[@]}" build --network host --quiet "${CACHE_ARGS[@]}" "$@" >/dev/null \
    || die "building ${name} failed; re-run with the same docker build arguments without --quiet to see why: $*"
  record "${name}" "${t0}"
}

if [[ "${BASES}" == local ]]; then
  [[ "$(id -u)" == 0 ]] || die "the local base images are built from a debootstrap root filesystem, which needs root"
  hack/images/debian-rootfs.sh
  if ! "${DOCKER[@]}" image inspect airflow-on-k8s/debian:bookworm >/dev/null 2>&1; then
    t0=${EPOCHREALTIME}
    "${DOCKER[@]}" import "$(hack/images/debian-rootfs.sh --print-path)" airflow-on-k8s/debian:bookworm >/dev/null
    record debian-base "${t0}"
  fi
  # The Python and Airflow stand-ins only for the images built on them; the others need Debian alone.
  if selected airflow || selected task-example; then
    build python-base --tag airflow-on-k8s/python:3.11-bookworm docker/base/python
  fi
  if selected airflow; then
    hack/images/wheelhouse.sh
    WHEELHOUSE="$(hack/images/wheelhouse.sh --print-dir)"
    cp docker/base/airflow/entrypoint "${WHEELHOUSE}/entrypoint"
    build airflow-base --tag airflow-on-k8s/airflow-base:3.3.2 --file docker/base/airflow/Dockerfile "${WHEELHOUSE}"
  fi
  BASE_IMAGES=(DEBIAN_IMAGE=airflow-on-k8s/debian:bookworm PYTHON_IMAGE=airflow-on-k8s/python:3.11-bookworm
    AIRFLOW_BASE_IMAGE=airflow-on-k8s/airflow-base:3.3.2)
else
  BASE_IMAGES=() # each Dockerfile's default: the official image
fi

# build_image NAME DOCKERFILE ARGS...: build, passing the base images the Dockerfile has an ARG for.
build_image() {
  local name="$1" dockerfile="$2" base
  shift 2
  local -a base_args=()
  for base in "${BASE_IMAGES[@]}"; do
    grep -q "^ARG ${base%%=*}=" "${dockerfile}" && base_args+=(--build-arg "${base}")
  done
  build "${name}" "${base_args[@]}" --file "${dockerfile}" "$@"
}
GIT_SYNC_BINARY="$(hack/images/git-sync.sh --print-path)"
GIT_SYNC_IMAGE="airflow-on-k8s/git-sync:$(basename "$(dirname "${GIT_SYNC_BINARY}")")"
STATSD_EXPORTER_BINARY="$(hack/images/go-binary.sh statsd_exporter --print-path)"
STATSD_EXPORTER_IMAGE="airflow-on-k8s/statsd-exporter:$(basename "$(dirname "${STATSD_EXPORTER_BINARY}")")"
PROMETHEUS_BINARY="$(hack/images/go-binary.sh prometheus --print-path)"
PROMETHEUS_IMAGE=airflow-on-k8s/prometheus:v3.16.0 # the release go-binary.sh builds (tests/lib/test_servers/metrics_tools.py)
KEYCLOAK_IMAGE="airflow-on-k8s/keycloak:$(basename "$(hack/images/keycloak.sh --print-dir)")" # tests/lib/test_servers/identity_provider.py
built=()
if selected airflow; then
  build_image airflow docker/airflow/Dockerfile --tag airflow-on-k8s/airflow:dev .
  built+=(airflow-on-k8s/airflow:dev)
fi
if selected task-example; then
  build_image task-example docker/task-example/Dockerfile --tag airflow-on-k8s/task-example:dev --tag test/image:1.0 docker/task-example
  built+=(airflow-on-k8s/task-example:dev test/image:1.0)
fi
if selected postgresql; then
  build_image postgresql docker/postgresql/Dockerfile --tag airflow-on-k8s/postgresql:15 docker/postgresql
  built+=(airflow-on-k8s/postgresql:15)
fi
if selected git-server; then
  build_image git-server docker/git-server/Dockerfile --tag airflow-on-k8s/git-server:dev docker/git-server
  built+=(airflow-on-k8s/git-server:dev)
fi
if selected git-sync; then
  # From its source (no registry serves upstream's image here); the context is the binary's folder.
  hack/images/git-sync.sh
  build_image git-sync docker/git-sync/Dockerfile --tag "${GIT_SYNC_IMAGE}" "$(dirname "${GIT_SYNC_BINARY}")"
  built+=("${GIT_SYNC_IMAGE}")
fi
if selected s3-server; then
  # From its Go module (go-binary.sh); the context is the binary's folder.
  hack/images/go-binary.sh versitygw
  build_image s3-server docker/s3-server/Dockerfile --tag airflow-on-k8s/s3-server:dev "$(dirname "$(hack/images/go-binary.sh versitygw --print-path)")"
  built+=(airflow-on-k8s/s3-server:dev)
fi
if selected statsd-exporter; then
  hack/images/go-binary.sh statsd_exporter
  build_image statsd-exporter docker/statsd-exporter/Dockerfile --tag "${STATSD_EXPORTER_IMAGE}" "$(dirname "${STATSD_EXPORTER_BINARY}")"
  built+=("${STATSD_EXPORTER_IMAGE}")
fi
if selected prometheus; then
  hack/images/go-binary.sh prometheus
  build_image prometheus docker/prometheus/Dockerfile --tag "${PROMETHEUS_IMAGE}" "$(dirname "${PROMETHEUS_BINARY}")"
  built+=("${PROMETHEUS_IMAGE}")
fi
if selected keycloak; then
  # Its server distribution from Maven Central (keycloak.sh); the context is the folder holding it.
  hack/images/keycloak.sh
  build_image keycloak docker/keycloak/Dockerfile --tag "${KEYCLOAK_IMAGE}" "$(hack/images/keycloak.sh --print-dir)"
  built+=("${KEYCLOAK_IMAGE}")
fi

# Sizes of every project image the daemon holds, not only this run's (make bench reads them all).
for image in airflow-on-k8s/airflow:dev airflow-on-k8s/task-example:dev test/image:1.0 airflow-on-k8s/postgresql:15 \
  airflow-on-k8s/git-server:dev "${GIT_SYNC_IMAGE}" airflow-on-k8s/s3-server:dev "${STATSD_EXPORTER_IMAGE}" \
  "${PROMETHEUS_IMAGE}" "${KEYCLOAK_IMAGE}"; do
  if size="$("${DOCKER[@]}" image inspect -f '{{.Size}}' "${image}" 2>/dev/null)"; then printf '%s %s\n' "${image}" "${size}"; fi
done >"${CACHE}/images/sizes.txt"

# Into the real node's containerd, when it runs: only what it lacks or holds an older build of
# (containerd keeps the image's config digest, which is the Docker image ID).
if [[ "${LOAD}" == true ]] && [[ -S "${CONTAINERD_SOCKET}" ]] && ctr --address "${CONTAINERD_SOCKET}" version >/dev/null 2>&1; then
  CTR=(ctr --address "${CONTAINERD_SOCKET}" --namespace k8s.io)
  stale=()
  for image in "${built[@]}"; do
    case "${image}" in # the name containerd stores, as Docker normalises it
      */*/*) ref="${image}" ;;
      */*) ref="docker.io/${image}" ;;
      *) ref="docker.io/library/${image}" ;;
    esac
    manifest="$("${CTR[@]}" images list "name==${ref}" 2>/dev/null | awk 'NR == 2 {print $3}')"
    loaded=""
    if [[ -n "${manifest}" ]]; then
      loaded="$("${CTR[@]}" content get "${manifest}" 2>/dev/null \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["config"]["digest"])' || true)"
    fi
    # An import cut short leaves the image listed but its layers not unpacked: load it again.
    unpacked="$("${CTR[@]}" images check "name==${ref}" 2>/dev/null | awk 'NR == 2 {print $NF}')"
    [[ "${loaded}" == "$("${DOCKER[@]}" image inspect -f '{{.Id}}' "${image}")" && "${unpacked}" == true ]] \
      || stale+=("${image}")
  done
  if [[ ${#stale[@]} -gt 0 ]]; then
    t0=${EPOCHREALTIME}
    echo "images: loading ${stale[*]} into the node's containerd"
    # containerd's garbage collector can drop a parent layer's snapshot while an import unpacks a
    # child ("parent snapshot ... does not exist", containerd#3787); an import is idempotent: retry.
    for attempt in 1 2 3; do
      if "${DOCKER[@]}" save "${stale[@]}" | "${CTR[@]}" images import - >/dev/null 2>"${CACHE}/images/import.err"; then
        break
      fi
      [[ ${attempt} -lt 3 ]] || { cat "${CACHE}/images/import.err" >&2; die "loading into the node's containerd failed 3 times"; }
      echo "images: import failed ($(tail -n 1 "${CACHE}/images/import.err")); retrying" >&2
    done
    record load "${t0}"
  else
    echo "images: the node's containerd already has every image"
  fi
fi
echo "images: done ($(tr '\n' ' ' <"${TIMES}"))"

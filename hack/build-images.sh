#!/usr/bin/env bash
# Usage: hack/build-images.sh
# Builds the two images of this repo with the local Docker daemon:
#   docker/airflow       -> airflow-on-k8s/airflow:dev
#   docker/task-example  -> airflow-on-k8s/task-example:dev, also tagged test/image:1.0 (the seed DAG's image)
# Load them into kind afterwards with `kind load docker-image <tag>`; the DAGs pull IfNotPresent.
# Without a reachable Docker daemon it says so in one line and exits 1.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

if [ "$#" -ne 0 ]; then
  echo "usage: hack/build-images.sh   (no arguments; builds airflow-on-k8s/airflow:dev and airflow-on-k8s/task-example:dev)" >&2
  exit 2
fi

die() { echo "build-images: $*" >&2; exit 1; }

command -v docker >/dev/null 2>&1 \
  || die "no docker command on PATH: install Docker (or a compatible engine) to build images"
docker info >/dev/null 2>&1 \
  || die "no Docker daemon reachable (docker info failed${DOCKER_HOST:+ for DOCKER_HOST=$DOCKER_HOST}): start Docker or point DOCKER_HOST at one, then re-run make images"

# BuildKit reads docker/airflow/Dockerfile.dockerignore, which keeps the repo-root context small.
export DOCKER_BUILDKIT=1

echo "build-images: airflow-on-k8s/airflow:dev"
docker build --file docker/airflow/Dockerfile --tag airflow-on-k8s/airflow:dev .

echo "build-images: airflow-on-k8s/task-example:dev (also test/image:1.0)"
docker build --tag airflow-on-k8s/task-example:dev --tag test/image:1.0 docker/task-example

echo "build-images: done; for kind: kind load docker-image airflow-on-k8s/airflow:dev airflow-on-k8s/task-example:dev test/image:1.0"

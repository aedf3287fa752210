#!/usr/bin/env bash
# Usage: hack/cluster/kind/kind.sh ARGS...
# Runs kind (the version config.sh pins, installed into .tools/bin from its Go module on first use)
# against the Docker daemon the cluster scripts use: the user's when `docker info` reaches one, else
# the private one hack/images/dockerd.sh runs (started here when needed, and left running: the kind
# cluster's node is one of its containers).
set -o errexit -o nounset -o pipefail
# shellcheck source=../../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../config.sh
source "${HERE}/../config.sh"

case "${1:-}" in
  -h | --help) usage ;; # kind's own help: kind.sh help, or --help after a command
esac

KIND="${REPO}/.tools/bin/kind"
if ! { [[ -x "${KIND}" ]] && "${KIND}" version 2>/dev/null | grep -q "kind ${KIND_VERSION} "; }; then
  command -v go >/dev/null \
    || die "kind ${KIND_VERSION} is not installed and Go is missing to install it: install Go, or kind ${KIND_VERSION} into ${REPO}/.tools/bin"
  echo "kind: installing kind ${KIND_VERSION} into .tools/bin (from its Go module)" >&2
  GOBIN="${REPO}/.tools/bin" go install "sigs.k8s.io/kind@${KIND_VERSION}" >&2
fi
use_docker || exit 1 # it said why
exec "${KIND}" "$@"

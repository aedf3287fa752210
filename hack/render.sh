#!/usr/bin/env bash
# Usage: hack/render.sh VALUES_FILE   (e.g. hack/render.sh values/dev.yaml)
# Print the chart rendered with one values file, as `helm install` would apply it
# (release `airflow`, namespace `airflow`).
set -o errexit -o nounset -o pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

case "${1:-}" in
  -h | --help) usage ;;
esac
[[ $# -eq 1 ]] || usage_error "one values file, e.g. values/dev.yaml"

VALUES="$1"
HELM="${REPO}/.tools/bin/helm"

[[ -f "${VALUES}" ]] || die "values file ${VALUES} not found; pass a path such as values/dev.yaml" 2
[[ -x "${HELM}" ]] || die "${HELM} is missing; run make setup"

exec "${HELM}" template airflow "${REPO}/charts/airflow" --namespace airflow --values "${VALUES}"

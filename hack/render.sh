#!/usr/bin/env bash
# Print the chart rendered with one values file, as `helm install` would apply it
# (release `airflow`, namespace `airflow`).
set -o errexit -o nounset -o pipefail

usage() { echo "usage: $0 VALUES_FILE   (e.g. $0 values/dev.yaml)" >&2; }

if [[ $# -ne 1 || "$1" == "-h" || "$1" == "--help" ]]; then
  usage
  exit 2
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
values="$1"
helm="${repo}/.tools/bin/helm"

if [[ ! -f "${values}" ]]; then
  echo "error: values file ${values} not found; pass a path such as values/dev.yaml" >&2
  exit 2
fi
if [[ ! -x "${helm}" ]]; then
  echo "error: ${helm} is missing; run make setup" >&2
  exit 1
fi

exec "${helm}" template airflow "${repo}/charts/airflow" --namespace airflow --values "${values}"

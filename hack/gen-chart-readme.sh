#!/usr/bin/env bash
# Usage: hack/gen-chart-readme.sh [README [VALUES]]   (defaults: charts/airflow/README.md, charts/airflow/values.yaml)
# Regenerate the values table of the chart README from the `## @param` comments in values.yaml,
# using the pinned @bitnami/readme-generator-for-helm (hack/readme-generator/package-lock.json).
set -o errexit -o nounset -o pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

case "${1:-}" in
  -h | --help) usage ;;
esac
[[ $# -le 2 ]] || usage_error "at most two arguments"

GENERATOR_DIR="${REPO}/hack/readme-generator"
README="${1:-${REPO}/charts/airflow/README.md}"
VALUES="${2:-${REPO}/charts/airflow/values.yaml}"

command -v node >/dev/null || die "node is not installed: install Node.js 20+ (it runs the README generator)"
command -v npm >/dev/null || die "npm is not installed: install npm (it installs the pinned README generator)"
[[ -f "${VALUES}" ]] || die "${VALUES} does not exist"
[[ -f "${README}" ]] || die "${README} does not exist: create it with a '## Parameters' heading where the table goes"
grep -q '^##\+ Parameters' "${README}" \
  || die "${README} has no '## Parameters' heading: add one where the values table goes"

# Install the pinned generator when node_modules is missing or older than the lock file.
INSTALLED_LOCK="${GENERATOR_DIR}/node_modules/.package-lock.json"
if [[ ! -x "${GENERATOR_DIR}/node_modules/.bin/readme-generator" || "${GENERATOR_DIR}/package-lock.json" -nt "${INSTALLED_LOCK}" ]]; then
  (cd "${GENERATOR_DIR}" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || die "npm ci failed in ${GENERATOR_DIR}: check that the npm registry is reachable"
fi

log="$(mktemp)"
trap 'rm -f "${log}"' EXIT
if ! "${GENERATOR_DIR}/node_modules/.bin/readme-generator" --values "${VALUES}" --readme "${README}" >"${log}" 2>&1; then
  # The generator prints one "ERROR: ..." line per metadata problem, or a JavaScript stack trace for
  # unparsable YAML; show only the lines that say what is wrong.
  grep -E '^(ERROR: (Missing|Metadata)|[A-Za-z]+Error: )' "${log}" | sed 's/^/gen-chart-readme: /' >&2 || true
  die "could not generate the values table from ${VALUES}: fix what is named above"
fi
echo "gen-chart-readme: values table in ${README} regenerated from ${VALUES}"

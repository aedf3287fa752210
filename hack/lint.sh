#!/usr/bin/env bash
# Usage: hack/lint.sh   (no arguments; run from anywhere, normally via 'make lint')
# Lint the repository: ruff over Python, yamllint over values files, and `helm lint --strict` with
# Helm 3 and Helm 4 over the chart with default, dev and prod values. Runs every step, then exits
# non-zero if any failed.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

case "${1:-}" in
  "") ;;
  -h | --help) usage ;;
  *) usage_error "no arguments" ;;
esac

cd "${REPO}"
export PATH="${REPO}/.tools/bin:${REPO}/.venv/bin:${PATH}"
CHART="charts/airflow"
failed=()

# step NAME COMMAND...: print a one-line heading, run the command, remember a failure.
step() {
  local name="$1"
  shift
  echo "==> ${name}"
  if ! "$@"; then
    echo "--> FAILED: ${name}" >&2
    failed+=("${name}")
  fi
}

# Only the Python folders that exist yet: dags/ may be absent on a fresh branch.
python_dirs=()
for dir in dags tests bench hack; do
  [[ -d "${dir}" ]] && python_dirs+=("${dir}")
done
step "ruff check ${python_dirs[*]}" ruff check "${python_dirs[@]}"

step "yamllint values/ ${CHART}/values.yaml" yamllint --strict --config-file .yamllint values "${CHART}/values.yaml"

for major in 3 4; do
  step "helm${major} lint --strict ${CHART} (default values)" helm"${major}" lint --strict --quiet "${CHART}"
  for env in dev prod; do
    step "helm${major} lint --strict ${CHART} (values/${env}.yaml)" \
      helm"${major}" lint --strict --quiet "${CHART}" --values "values/${env}.yaml"
  done
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "lint: ${#failed[@]} step(s) failed: $(IFS=';'; echo "${failed[*]}")" >&2
  exit 1
fi
echo "lint: all steps passed"

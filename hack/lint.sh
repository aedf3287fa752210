#!/usr/bin/env bash
# Lint the repository: ruff over Python, yamllint over values files, and `helm lint --strict` with
# Helm 3 and Helm 4 over the chart with default, dev and prod values. Runs every step, then exits
# non-zero if any failed.
set -o errexit -o nounset -o pipefail

usage() {
  echo "usage: $0  (no arguments; run from anywhere, normally via 'make lint')" >&2
}
case "${1:-}" in
  "") ;;
  -h | --help) usage; exit 0 ;;
  *) usage; exit 2 ;;
esac

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export PATH="$repo/.tools/bin:$repo/.venv/bin:$PATH"
chart="charts/airflow"
failed=()

# step NAME COMMAND...: print a one-line heading, run the command, remember a failure.
step() {
  local name="$1"
  shift
  echo "==> $name"
  if ! "$@"; then
    echo "--> FAILED: $name" >&2
    failed+=("$name")
  fi
}

# Only the Python folders that exist yet: dags/ may be absent on a fresh branch. The chart's files/
# holds the Python its pods run (files/scripts) and the api-server's remote log reader.
python_dirs=()
for dir in dags tests bench hack "$chart/files"; do
  [[ -d "$dir" ]] && python_dirs+=("$dir")
done
step "ruff check ${python_dirs[*]}" ruff check "${python_dirs[@]}"

step "yamllint values/ $chart/values.yaml" yamllint --strict --config-file .yamllint values "$chart/values.yaml"

for major in 3 4; do
  step "helm$major lint --strict $chart (default values)" helm"$major" lint --strict --quiet "$chart"
  for env in dev prod; do
    step "helm$major lint --strict $chart (values/$env.yaml)" \
      helm"$major" lint --strict --quiet "$chart" --values "values/$env.yaml"
  done
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "lint: ${#failed[@]} step(s) failed: $(IFS=';'; echo "${failed[*]}")" >&2
  exit 1
fi
echo "lint: all steps passed"

#!/usr/bin/env bash
# Regenerate the values table of the chart README from the `## @param` comments in values.yaml,
# using the pinned @bitnami/readme-generator-for-helm (hack/readme-generator/package-lock.json).
set -o errexit -o nounset -o pipefail

usage() {
  echo "usage: $0 [README [VALUES]]  (defaults: charts/airflow/README.md, charts/airflow/values.yaml)" >&2
}

die() {
  echo "gen-chart-readme: $*" >&2
  exit 1
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
esac
[[ $# -le 2 ]] || { usage; exit 2; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
generator_dir="$repo/hack/readme-generator"
readme="${1:-$repo/charts/airflow/README.md}"
values="${2:-$repo/charts/airflow/values.yaml}"

command -v node >/dev/null || die "node is not installed: install Node.js 20+ (it runs the README generator)"
command -v npm >/dev/null || die "npm is not installed: install npm (it installs the pinned README generator)"
[[ -f "$values" ]] || die "$values does not exist"
[[ -f "$readme" ]] || die "$readme does not exist: create it with a '## Parameters' heading where the table goes"
grep -q '^##\+ Parameters' "$readme" \
  || die "$readme has no '## Parameters' heading: add one where the values table goes"

# Install the pinned generator when node_modules is missing or older than the lock file.
installed_lock="$generator_dir/node_modules/.package-lock.json"
if [[ ! -x "$generator_dir/node_modules/.bin/readme-generator" || "$generator_dir/package-lock.json" -nt "$installed_lock" ]]; then
  (cd "$generator_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || die "npm ci failed in $generator_dir: check that the npm registry is reachable"
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$generator_dir/node_modules/.bin/readme-generator" --values "$values" --readme "$readme" >"$log" 2>&1; then
  # The generator prints one "ERROR: ..." line per metadata problem, or a JavaScript stack trace for
  # unparsable YAML; show only the lines that say what is wrong.
  grep -E '^(ERROR: (Missing|Metadata)|[A-Za-z]+Error: )' "$log" | sed 's/^/gen-chart-readme: /' >&2 || true
  die "could not generate the values table from $values: fix what is named above"
fi
echo "gen-chart-readme: values table in $readme regenerated from $values"

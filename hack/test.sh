#!/usr/bin/env bash
# Usage: hack/test.sh [offline | e2e [MODULE...] | pytest args...]   (default: the whole suite under tests/)
#   offline          every test but tests/e2e: chart, DAGs, images, scan, tools (minutes, no cluster)
#   e2e [MODULE...]  tests/e2e, or only the modules named (e.g. tests/e2e/test_faults.py)
# Runs the test suite with the project's .venv; `make test` calls it after `make setup`.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "test: .venv is missing: run 'make setup' first" >&2; exit 1; }
case "${1:-}" in
  offline) shift; set -- tests --ignore=tests/e2e "$@" ;;
  e2e) shift; [[ $# -gt 0 ]] || set -- tests/e2e ;;
esac
exec .venv/bin/python -m pytest "${@:-tests}"

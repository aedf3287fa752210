#!/usr/bin/env bash
# Usage: hack/test.sh [offline | e2e [MODULE...] | pytest args...]   (default: the whole suite under tests/)
#   offline          every test but tests/e2e: chart, DAGs, images, scan, tools (minutes, no cluster)
#   e2e [MODULE...]  tests/e2e, or only the modules named (e.g. tests/e2e/test_faults.py)
# Runs the test suite with the project's .venv; `make test` calls it after `make setup`.
# TEST_WORKERS (default 2) pytest-xdist workers run the whole suite and the tiers (tests/lib/suite/lanes.py):
# the offline tests on both, then the e2e modules in one lane and the mostly waiting ones (test_faults)
# in the other (tests/README.md says where the time goes). TEST_WORKERS=0 runs everything in one
# process. Explicit pytest args always do.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

case "${1:-}" in
  -h | --help) usage ;;
esac
cd "${REPO}"
[[ -x .venv/bin/python ]] || die ".venv is missing: run 'make setup' first"
WORKERS="${TEST_WORKERS:-2}"
[[ "${WORKERS}" =~ ^[0-9]+$ ]] || die "TEST_WORKERS must be a number of workers (0: none), not '${WORKERS}'" 2
lanes=()
[[ "${WORKERS}" -gt 0 ]] && lanes=(-n "${WORKERS}" --dist loadgroup --no-loadscope-reorder)
# The slowest set-ups and tests, at the end of the output: where a run's time went, to compare runs.
slowest=(--durations=40 --durations-min=15)
case "${1:-}" in
  offline) shift; set -- "${lanes[@]}" "${slowest[@]}" tests --ignore=tests/e2e "$@" ;;
  e2e) shift; [[ $# -gt 0 ]] || set -- "${lanes[@]}" "${slowest[@]}" tests/e2e ;;
  "") set -- "${lanes[@]}" "${slowest[@]}" tests ;;
esac
exec .venv/bin/python -m pytest "$@"

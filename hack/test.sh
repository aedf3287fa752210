#!/usr/bin/env bash
# Usage: hack/test.sh [pytest args...]   (default: the whole suite under tests/)
# Runs the test suite with the project's .venv; `make test` calls it after `make setup`.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "test: .venv is missing: run 'make setup' first" >&2; exit 1; }
exec .venv/bin/python -m pytest "${@:-tests}"

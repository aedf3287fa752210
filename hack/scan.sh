#!/usr/bin/env bash
# Usage: hack/scan.sh [pytest args...]
# The conformance and security gates (tests/scan): strict Kubernetes 1.30-1.35 schemas, the restricted
# Pod Security Standard, checkov, RBAC against tests/scan/expected-rbac.yaml, no Secret outside Secrets
# and the wrong-values corpus, over every values scenario and every DAG pod; ends with a
# scenario x check table. The checkers' own tests (tests/lib/conformance/tests) run with the gates.
# `make scan` calls it after `make setup`; checkov is installed here if missing.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

case "${1:-}" in
  -h | --help) usage ;;
esac
cd "${REPO}"

[[ -x .venv/bin/python ]] || die ".venv is missing: run 'make setup' first"
hack/install-checkov.sh
# -rfE: list only failures and errors under the table (the skips are explained by the table itself).
exec .venv/bin/python -m pytest -q -rfE tests/scan tests/lib/conformance "$@"

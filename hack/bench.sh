#!/usr/bin/env bash
# Usage: hack/bench.sh [--quick] [--only render,dags,footprint,suites,cluster,images,airflow,load,faults,prod,kind]
# Measures what the repo costs; writes bench/results.json and prints a table (see README, "Benchmarks").
#   --quick       fewer repetitions (a smoke run)
#   --only PARTS  only these parts, comma-separated (default: all of them)
set -o errexit -o nounset -o pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

case "${1:-}" in
  -h | --help) usage ;;
esac
cd "${REPO}"
exec .venv/bin/python -m bench "$@"

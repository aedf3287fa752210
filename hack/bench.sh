#!/usr/bin/env bash
# Usage: hack/bench.sh [--quick] [--only render,dags,footprint,suites,cluster,images,airflow,load,faults,prod,kind]
# Measures what the repo costs; writes bench/results.json and prints a table (see README, "Benchmarks").
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m bench "$@"

#!/usr/bin/env bash
# Usage: hack/images/wheelhouse.sh [--print-dir]
# Downloads, once per lock, the wheels of the Airflow image's locked packages (uv.lock, exported with
# their hashes) into ${XDG_CACHE_HOME:-~/.cache}/airflow-on-k8s/images/wheelhouse/<export hash>/, for
# the local Airflow base image to install with no network. Every file is checked against the lock's
# sha256. Uses the host's pip, so the host's index settings and CA bundle apply.
set -o errexit -o nounset -o pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

PRINT_DIR=false
case "${1:-}" in
  "") ;;
  --print-dir) PRINT_DIR=true ;;
  -h | --help) usage ;;
  *) usage_error "unknown argument '$1'" ;;
esac
cd "${REPO}"

UV_VERSION=0.9.30 # hack/setup.sh installs it
UV_VENV="${CACHE}/uv-${UV_VERSION}"
REQUIREMENTS=docker/airflow/requirements.txt

[[ -f "${REQUIREMENTS}" ]] || die "${REQUIREMENTS} is missing: restore it from git"
[[ -x "${UV_VENV}/bin/uv" ]] || die "${UV_VENV}/bin/uv is missing: run make setup"
# The same set as requirements.txt, with the lock's hashes, so pip refuses any file that differs. Its
# hash names the wheelhouse: a change to the lock's dev group alone rebuilds no image.
export_file="$(mktemp)"
trap 'rm -f "${export_file}"' EXIT
# --no-header: uv's header names the output file, a new temporary path each time.
UV_PROJECT_ENVIRONMENT="${PWD}/.venv" "${UV_VENV}/bin/uv" export --no-dev --frozen --no-emit-project --no-header \
  --quiet -o "${export_file}"
# The wheels are chosen by the host's Python, the image runs Debian's 3.11.2: a lock that picks a
# package by 3.11 patch level would hand the image a wheel it cannot install.
if split="$(grep -E "python_full_version *[<>=!]+ *'3\.11\.[0-9]+'" "${export_file}")"; then
  die "uv.lock picks these by Python 3.11 patch level, which the host and the image's 3.11.2 may not share:
${split}
Fix: add the package to [tool.uv] constraint-dependencies in pyproject.toml (one version for every 3.11), then uv lock"
fi
key="$(cat "${REQUIREMENTS}" "${export_file}" | sha256sum | cut -c1-16)"
DIR="${CACHE}/images/wheelhouse/${key}"
[[ "${PRINT_DIR}" == true ]] && { echo "${DIR}"; exit 0; }

[[ -f "${DIR}/COMPLETE" ]] && { echo "wheelhouse: ${DIR} already complete"; exit 0; }

mkdir -p "${DIR}"
exec 9>"${DIR}.lock"
flock 9
[[ -f "${DIR}/COMPLETE" ]] && { echo "wheelhouse: ${DIR} already complete"; exit 0; }

cp "${export_file}" "${DIR}/requirements.txt"
echo "wheelhouse: fetching the locked wheels into ${DIR}"
# pip wheel keeps wheels as published and builds one only for a package that has none for Python 3.11.
env -u PIP_FIND_LINKS "${UV_VENV}/bin/python" -m pip wheel --quiet --no-deps --require-hashes \
  -r "${DIR}/requirements.txt" -w "${DIR}" \
  || die "pip could not fetch the locked wheels (see above): check that PyPI is reachable, then retry"
touch "${DIR}/COMPLETE"
# Wheelhouses of earlier locks are not used again.
find "$(dirname "${DIR}")" -mindepth 1 -maxdepth 1 ! -name "${key}" ! -name "${key}.lock" -exec rm -rf {} +
echo "wheelhouse: $(find "${DIR}" -name '*.whl' | wc -l) wheels, $(du -sh "${DIR}" | cut -f1)"

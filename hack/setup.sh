#!/usr/bin/env bash
# Usage: hack/setup.sh
# Creates .venv from uv.lock (runtime + dev groups) and installs the pinned tools into .tools/bin.
# Idempotent: when everything is in place it downloads nothing and finishes in seconds.
# PYTHON=/path/to/python3.11 picks the Python (default: python3 on PATH).
set -o errexit -o nounset -o pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

case "${1:-}" in
  -h | --help) usage ;;
esac
[[ $# -eq 0 ]] || usage_error "no arguments"
cd "${REPO}"

UV_VERSION=0.9.30
PYTHON=${PYTHON:-python3}

command -v "${PYTHON}" >/dev/null 2>&1 \
  || die "no '${PYTHON}' on PATH: install Python 3.11 or newer, or run with PYTHON=/path/to/python3.11"
"${PYTHON}" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  || die "Python 3.11 or newer is needed, ${PYTHON} is $("${PYTHON}" -V 2>&1): install a newer one or set PYTHON=/path/to/python3.11"

# uv, pinned, in its own small venv in the cache (shared by every clone on this machine).
UV="${CACHE}/uv-${UV_VERSION}/bin/uv"
if [[ ! -x "${UV}" ]]; then
  echo "setup: installing uv ${UV_VERSION}"
  rm -rf "${CACHE}/uv-${UV_VERSION}"
  "${PYTHON}" -m venv "${CACHE}/uv-${UV_VERSION}" || die "could not create a venv with ${PYTHON}: install its venv module (Debian: apt-get install python3-venv)"
  "${CACHE}/uv-${UV_VERSION}/bin/python" -m pip install --quiet "uv==${UV_VERSION}" \
    || { rm -rf "${CACHE}/uv-${UV_VERSION}"; die "could not install uv ${UV_VERSION} from PyPI: check that PyPI is reachable (or PIP_INDEX_URL), then retry"; }
fi

# .venv exactly as uv.lock says; --frozen refuses to silently re-resolve.
UV_PROJECT_ENVIRONMENT="${PWD}/.venv" "${UV}" sync --frozen --quiet --python "${PYTHON}" \
  || die "could not install the locked Python dependencies (see uv's message above): check that PyPI is reachable, then retry"

echo "setup: tools in .tools/bin"
# The uv venv has pip, which fetches the tool wheels with the user's own index settings.
"${CACHE}/uv-${UV_VERSION}/bin/python" hack/install_tools.py

# checkov (the scan's Kubernetes checks) lives in its own venv: its pins conflict with Airflow's.
UV="${UV}" hack/install-checkov.sh

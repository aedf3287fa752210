#!/usr/bin/env bash
# Usage: hack/install-checkov.sh
# Install checkov into its own venv, .tools/checkov, from the hashed lock requirements/checkov.txt.
# checkov pins many libraries differently from Airflow, so it never shares .venv.
# Idempotent: does nothing when the venv already holds exactly the current lock.
# UV=path picks a uv binary; UV= (empty) forces plain pip.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

case "${1:-}" in
  -h | --help) usage ;;
  "") ;;
  *) usage_error "no arguments" ;;
esac

LOCK="${REPO}/requirements/checkov.txt"
VENV="${REPO}/.tools/checkov"
STAMP="${VENV}/.lock-sha256"

[[ -f "${LOCK}" ]] || die "${LOCK} is missing; regenerate it from requirements/checkov.in (the command is in its header)"
want="$(sha256sum "${LOCK}" | cut -d' ' -f1)"
if [[ -x "${VENV}/bin/checkov" && -f "${STAMP}" && "$(cat "${STAMP}")" == "${want}" ]]; then
  exit 0
fi

python="$(command -v python3.11 || command -v python3 || true)"
[[ -n "${python}" ]] || die "no python3 found; install Python 3.11 (the lock is compiled for it)"

rm -rf "${VENV}"
# uv is much faster; plain pip with --require-hashes installs the same lock when uv is absent.
if [[ -n "${UV+set}" ]]; then
  uv="${UV}"
else
  uv="$(command -v uv || true)"
  [[ -z "${uv}" && -x /tmp/uvv/bin/uv ]] && uv=/tmp/uvv/bin/uv
fi
log="$(mktemp)"
trap 'rm -f "${log}"' EXIT
if [[ -n "${uv}" ]]; then
  "${uv}" venv --quiet --python "${python}" "${VENV}" >"${log}" 2>&1 || die "could not create ${VENV}: $(tail -n1 "${log}")"
  "${uv}" pip sync --quiet --python "${VENV}/bin/python" --require-hashes "${LOCK}" >"${log}" 2>&1 \
    || die "installing the lock failed: $(tail -n1 "${log}")"
else
  "${python}" -m venv "${VENV}" >"${log}" 2>&1 || die "could not create ${VENV}: $(tail -n1 "${log}")"
  "${VENV}/bin/pip" install --quiet --no-deps --require-hashes -r "${LOCK}" >"${log}" 2>&1 \
    || die "installing the lock failed: $(tail -n1 "${log}")"
fi
"${VENV}/bin/checkov" --version >/dev/null 2>&1 || die "checkov was installed but does not start; remove ${VENV} and retry"
echo "${want}" >"${STAMP}"
echo "install-checkov: checkov $("${VENV}/bin/checkov" --version) in ${VENV}"

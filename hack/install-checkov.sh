#!/usr/bin/env bash
# Install checkov into its own venv, .tools/checkov, from the hashed lock requirements/checkov.txt.
# checkov pins many libraries differently from Airflow, so it never shares .venv.
# Idempotent: does nothing when the venv already holds exactly the current lock.
set -o errexit -o nounset -o pipefail

usage() { echo "usage: hack/install-checkov.sh   (installs checkov into .tools/checkov from requirements/checkov.txt)"; }
die() { echo "install-checkov: $*" >&2; exit 1; }

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  "") ;;
  *) usage >&2; exit 2 ;;
esac

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lock="$repo/requirements/checkov.txt"
venv="$repo/.tools/checkov"
stamp="$venv/.lock-sha256"

[[ -f "$lock" ]] || die "$lock is missing; regenerate it from requirements/checkov.in (the command is in its header)"
want="$(sha256sum "$lock" | cut -d' ' -f1)"
if [[ -x "$venv/bin/checkov" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi

python="$(command -v python3.11 || command -v python3 || true)"
[[ -n "$python" ]] || die "no python3 found; install Python 3.11 (the lock is compiled for it)"

rm -rf "$venv"
# uv is much faster; plain pip with --require-hashes installs the same lock when uv is absent.
# UV=path picks a uv binary; UV= (empty) forces the pip path.
if [[ -n "${UV+set}" ]]; then
  uv="$UV"
else
  uv="$(command -v uv || true)"
  [[ -z "$uv" && -x /tmp/uvv/bin/uv ]] && uv=/tmp/uvv/bin/uv
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if [[ -n "$uv" ]]; then
  "$uv" venv --quiet --python "$python" "$venv" >"$log" 2>&1 || die "could not create $venv: $(tail -n1 "$log")"
  "$uv" pip sync --quiet --python "$venv/bin/python" --require-hashes "$lock" >"$log" 2>&1 \
    || die "installing the lock failed: $(tail -n1 "$log")"
else
  "$python" -m venv "$venv" >"$log" 2>&1 || die "could not create $venv: $(tail -n1 "$log")"
  "$venv/bin/pip" install --quiet --no-deps --require-hashes -r "$lock" >"$log" 2>&1 \
    || die "installing the lock failed: $(tail -n1 "$log")"
fi
"$venv/bin/checkov" --version >/dev/null 2>&1 || die "checkov was installed but does not start; remove $venv and retry"
echo "$want" >"$stamp"
echo "install-checkov: checkov $("$venv/bin/checkov" --version) in $venv"

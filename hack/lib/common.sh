# shellcheck shell=bash
# Sourced by every script under hack/, before anything else (and by hack/cluster/config.sh, so that a
# test may source that alone): what they all need, in one place. Defines variables and functions
# only: no shell options, no output, nothing started, so a plain `bash -c` may source it too.
#
# The style of the scripts under hack/ (kind's, after Google's shell style guide). `make lint`
# checks it with shellcheck (hack/lint.sh; hack/.shellcheckrc turns on the brace and [[ ]] checks):
# - Bash, `#!/usr/bin/env bash`, then the header: `# Usage: hack/<path> ARGS...` on line 2 and what
#   the script does below it. The header, up to the first line that is not a comment, is what
#   -h/--help prints (usage); a wrong argument prints its Usage line and exits 2 (usage_error).
# - Then `set -o errexit -o nounset -o pipefail`, and this file sourced, before config.sh or any
#   other (which may source it again: harmless, it only defines).
# - UPPER_CASE for environment variables (read or exported) and for constants: the names a script
#   gives, once and for the whole run, to a setting, path, name or version (options parsed from its
#   arguments and answers asked of another script included), never reassigned afterwards; and for
#   any variable a template reads (render's @@NAME@@ in hack/cluster/config.sh). lower_case for
#   everything else: a function's variables, always declared `local`, and the working values of a
#   script's body (loop variables, accumulators, intermediate results, temporary files).
# - Every variable expansion in braces, "${NAME}" and "${array[@]}" (positional and special
#   parameters as they are: "$1", "$@", "$#"); [[ ]] for tests; $(...) for command substitution.
# - Failures through die: one line on stderr naming the script, then exit 1 (2 for a wrong usage).

# The repository's root, whichever folder a script runs from.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# What the scripts build and download, kept across runs and shared by every clone on the machine.
# Left unset when neither XDG_CACHE_HOME nor HOME is (`env -i`): a script that needs it fails on it.
if [[ -n "${XDG_CACHE_HOME:-}" || -v HOME ]]; then
  # shellcheck disable=SC2034 # read by the scripts that source this file
  CACHE="${XDG_CACHE_HOME:-${HOME}/.cache}/airflow-on-k8s"
fi

# The name a script's messages start with (`PROG: ...`): its file name without .sh, unless the
# script sets another after sourcing this file.
PROG="$(basename "$0" .sh)"

# die MESSAGE [STATUS]: print "PROG: MESSAGE" on stderr and exit with STATUS (default 1).
die() {
  echo "${PROG}: $1" >&2
  exit "${2:-1}"
}

# usage: print the script's header (its comment block after the shebang, without the "# ") on
# stdout, and exit 0: what -h and --help do.
usage() {
  awk 'NR == 1 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "$0"
  exit 0
}

# usage_error [MESSAGE]: print the header's Usage line as "usage: ...", then "PROG: MESSAGE" when
# given, on stderr, and exit 2: what a wrong argument gets.
usage_error() {
  {
    awk 'NR > 1 && sub(/^# Usage: /, "usage: ") { print; exit }' "$0"
    if [[ $# -gt 0 ]]; then echo "${PROG}: $1"; fi
  } >&2
  exit 2
}

# use_docker: point the docker CLI (and kind) at the Docker daemon the scripts use, as
# hack/images/dockerd.sh decides: the user's when `docker info` reaches one, else the private one it
# runs as root on Linux (started if need be). Exports DOCKER_HOST (unset for the user's default
# socket) and sets DOCKER, the client to run: `docker`, or for the private daemon Debian's
# /usr/bin/docker, which speaks its API and has BuildKit built in (another client may need buildx).
# Returns 1, dockerd.sh having said why on stderr, when there is neither daemon.
# shellcheck disable=SC2034 # DOCKER is read by the scripts that call use_docker
use_docker() {
  local docker_host
  docker_host="$("${REPO}/hack/images/dockerd.sh" start)" || return 1
  # shellcheck disable=SC2163 # it holds DOCKER_HOST=... (empty for the user's default daemon)
  export "${docker_host}"
  [[ -n "${DOCKER_HOST}" ]] || unset DOCKER_HOST
  DOCKER=(docker)
  if [[ "DOCKER_HOST=${DOCKER_HOST:-}" == "$("${REPO}/hack/images/dockerd.sh" env)" ]]; then
    DOCKER=(/usr/bin/docker)
  fi
}

# apt_install PACKAGE...: install Debian packages with apt-get, its package lists updated first and
# its output kept out of sight; when that fails, say so with apt-get's last lines on stderr and
# return 1. Needs root: callers check, and say first which packages and why.
apt_install() {
  local log
  log="$(mktemp)"
  if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"; } >"${log}" 2>&1; then
    echo "${PROG}: apt-get could not install $*; its last lines:" >&2
    tail -n 5 "${log}" >&2
    rm -f "${log}"
    return 1
  fi
  rm -f "${log}"
}

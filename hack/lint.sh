#!/usr/bin/env bash
# Usage: hack/lint.sh   (no arguments; run from anywhere, normally via 'make lint')
# Lint the repository: ruff over Python, shellcheck over every shell script under hack/ (with
# hack/.shellcheckrc; Debian's shellcheck package, installed with apt-get when missing and running
# as root), yamllint over values files, and `helm lint --strict` with Helm 3 and Helm 4 over the
# chart with default, dev and prod values. Runs every step, then exits non-zero if any failed.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

case "${1:-}" in
  "") ;;
  -h | --help) usage ;;
  *) usage_error "no arguments" ;;
esac

cd "${REPO}"
export PATH="${REPO}/.tools/bin:${REPO}/.venv/bin:${PATH}"
CHART="charts/airflow"
failed=()

# step NAME COMMAND...: print a one-line heading, run the command, remember a failure.
step() {
  local name="$1"
  shift
  echo "==> ${name}"
  if ! "$@"; then
    echo "--> FAILED: ${name}" >&2
    failed+=("${name}")
  fi
}

# Only the Python folders that exist yet: dags/ may be absent on a fresh branch. The chart's files/
# holds the Python its pods run (files/scripts) and the api-server's remote log reader.
python_dirs=()
for dir in dags tests bench hack "${CHART}/files"; do
  [[ -d "${dir}" ]] && python_dirs+=("${dir}")
done
step "ruff check ${python_dirs[*]}" ruff check "${python_dirs[@]}"

# shell_script FILE: whether FILE is a shell script: named *.sh (the sourced ones too), or starting
# with a shebang that runs a shell (hack/images/runc-bounded, say, is Python).
shell_script() {
  local file="$1" first="" shebang='^#!.*[/ ](ba|da|k)?sh([[:space:]]|$)'
  [[ "${file}" == *.sh ]] && return 0
  IFS= read -r first <"${file}" || true
  [[ "${first}" =~ ${shebang} ]]
}

# check_shell_scripts: shellcheck over the shell scripts under hack/, Debian's shellcheck installed
# first when it is missing and this runs as root.
check_shell_scripts() {
  local file scripts=()
  if ! command -v shellcheck >/dev/null; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
      echo "lint: installing Debian's shellcheck with apt-get (it checks the shell scripts under hack/)"
      apt_install shellcheck || return 1
    else
      echo "lint: shellcheck is not installed: install Debian's shellcheck package (sudo apt-get install shellcheck), then re-run make lint" >&2
      return 1
    fi
  fi
  while IFS= read -r file; do
    if shell_script "${file}"; then scripts+=("${file}"); fi
  done < <(find hack -type f | sort)
  echo "shellcheck $(shellcheck --version | sed -n 's/^version: //p'): ${#scripts[@]} scripts"
  shellcheck "${scripts[@]}"
}
step "shellcheck hack/" check_shell_scripts

step "yamllint values/ ${CHART}/values.yaml" yamllint --strict --config-file .yamllint values "${CHART}/values.yaml"

for major in 3 4; do
  step "helm${major} lint --strict ${CHART} (default values)" helm"${major}" lint --strict --quiet "${CHART}"
  for env in dev prod; do
    step "helm${major} lint --strict ${CHART} (values/${env}.yaml)" \
      helm"${major}" lint --strict --quiet "${CHART}" --values "values/${env}.yaml"
  done
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "lint: ${#failed[@]} step(s) failed: $(IFS=';'; echo "${failed[*]}")" >&2
  exit 1
fi
echo "lint: all steps passed"

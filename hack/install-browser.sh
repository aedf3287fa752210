#!/usr/bin/env bash
# Usage: hack/install-browser.sh
# Makes sure a Chromium the UI tests can drive headless is installed, and prints its path: one found
# on the system (chromium, or Google Chrome as on GitHub's runners), else Debian's `chromium` package,
# installed with apt-get as root (saying so). Playwright's own browser download is never used.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

case "${1:-}" in
  -h | --help) usage ;;
esac
[[ $# -eq 0 ]] || usage_error "no arguments"

for candidate in chromium chromium-browser google-chrome google-chrome-stable; do
  if path="$(command -v "${candidate}")"; then echo "${path}"; exit 0; fi
done
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
  die "no Chromium found; install Debian's chromium package (sudo apt-get install chromium) or Google Chrome"
fi
echo "install-browser: installing Debian's chromium with apt-get (the UI tests drive it headless)" >&2
apt_install chromium || exit 1 # it said why
command -v chromium

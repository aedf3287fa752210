#!/usr/bin/env bash
# Usage: hack/install-browser.sh
# Makes sure a Chromium the UI tests can drive headless is installed, and prints its path: one found
# on the system (chromium, or Google Chrome as on GitHub's runners), else Debian's `chromium` package,
# installed with apt-get as root (saying so). Playwright's own browser download is never used.
set -o errexit -o nounset -o pipefail

for candidate in chromium chromium-browser google-chrome google-chrome-stable; do
  if path="$(command -v "${candidate}")"; then echo "${path}"; exit 0; fi
done
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "install-browser: no Chromium found; install Debian's chromium package (sudo apt-get install chromium) or Google Chrome" >&2
  exit 1
fi
echo "install-browser: installing Debian's chromium with apt-get (the UI tests drive it headless)" >&2
log="$(mktemp)"
if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; } >"${log}" 2>&1; then
  echo "install-browser: apt-get could not install chromium; its last lines:" >&2
  tail -n 5 "${log}" >&2
  exit 1
fi
rm -f "${log}"
command -v chromium

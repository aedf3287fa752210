#!/usr/bin/env bash
# Usage: hack/images/keycloak.sh [--print-dir]
# Gets, once, Keycloak's server distribution (org.keycloak:keycloak-quarkus-dist, Apache-2.0) from
# Maven Central into ~/.cache/airflow-on-k8s/keycloak/<version>/keycloak/, the build context of
# docker/keycloak: the identity provider the SSO e2e tests sign people in through. The archive is
# checked against the SHA-256 pinned here and Maven's own .sha1 beside it (maven_artifact.py). 26.5.6 runs on Debian
# bookworm's Java 17 (openjdk-17-jre-headless), which the image installs: checked by starting it.
# MAVEN_REPOSITORY overrides the repository (a mirror); KEYCLOAK_VERSION with KEYCLOAK_SHA256 the release.
# --print-dir prints the build context's folder (or where it will be).
set -o errexit -o nounset -o pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

case "${1:-}" in
  -h | --help) usage ;;
  "" | --print-dir) ;;
  *) usage_error "unknown argument '$1'" ;;
esac
cd "${REPO}"
PROG=keycloak
VERSION="${KEYCLOAK_VERSION:-26.5.6}"
SHA256="${KEYCLOAK_SHA256:-490189d9dff05272432d51f71a069462eeca97f2920a694d539a1e6c26a5a347}"
REPOSITORY="${MAVEN_REPOSITORY:-https://repo1.maven.org/maven2}"
DIR="${CACHE}/keycloak/${VERSION}"
[[ "${1:-}" == --print-dir ]] && { echo "${DIR}"; exit 0; }
if [[ -x "${DIR}/keycloak/bin/kc.sh" ]]; then
  echo "keycloak ${VERSION} already here: ${DIR}"
  exit 0
fi
mkdir -p "${DIR}"
exec 9>"${DIR}/.get.lock"
flock 9
[[ -x "${DIR}/keycloak/bin/kc.sh" ]] && exit 0 # another run finished it while this one waited
command -v python3 >/dev/null || die "python3 not found: it downloads and unpacks the archive; install it (Debian: apt-get install python3)"
url="${REPOSITORY}/org/keycloak/keycloak-quarkus-dist/${VERSION}/keycloak-quarkus-dist-${VERSION}.zip"
echo "keycloak: getting ${url}"
python3 hack/images/maven_artifact.py "${url}" "${DIR}/dist.zip" "${SHA256}" \
  || die "could not get ${url} (see above); set KEYCLOAK_SHA256 only together with another KEYCLOAK_VERSION"
rm -rf "${DIR}/unpacked"
python3 -m zipfile -e "${DIR}/dist.zip" "${DIR}/unpacked"
chmod +x "${DIR}/unpacked/keycloak-${VERSION}"/bin/*.sh # zipfile keeps no modes
mv "${DIR}/unpacked/keycloak-${VERSION}" "${DIR}/keycloak"
rm -rf "${DIR}/unpacked" "${DIR}/dist.zip"
echo "keycloak ${VERSION}: ${DIR}/keycloak"

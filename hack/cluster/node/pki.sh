#!/usr/bin/env bash
# Usage: hack/cluster/node/pki.sh API_SERVER_URL
# The real node's own credentials, signed by the local control plane's CA (kwokctl's): the kubelet's
# client certificate (system:node:<node>, group system:nodes: the Node authorizer and NodeRestriction
# judge it), its serving certificate (the API server checks it when it calls the kubelet), and
# kube-proxy's client certificate (system:kube-proxy, which Kubernetes' default RBAC binds to
# system:node-proxier) and kube-router's (system:kube-router, bound by kube-router-rbac.yaml to read
# pods, namespaces and NetworkPolicies). No bootstrap token, no anonymous access. Written to NODE_STATE/pki with a
# kubeconfig each; kept while the CA is the same, made anew when the cluster (and its CA) is.
set -o errexit -o nounset -o pipefail
# shellcheck source=../../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../config.sh
source "${HERE}/../config.sh"
PROG="node pki"

case "${1:-}" in
  -h | --help) usage ;;
esac
[[ $# -eq 1 ]] || usage_error "one argument, the API server's URL"

SERVER="$1"
CA_DIR="${KWOK_CLUSTER_DIR}/pki"
PKI="${NODE_STATE}/pki"
[[ -f "${CA_DIR}/ca.crt" && -f "${CA_DIR}/ca.key" ]] || die "no cluster CA in ${CA_DIR}: start the control plane first"

if cmp -s "${CA_DIR}/ca.crt" "${PKI}/ca.crt" && [[ -f "${PKI}/kube-router.kubeconfig" ]] \
  && grep -qF "server: ${SERVER}" "${PKI}/kubelet.kubeconfig"; then
  exit 0
fi
rm -rf "${PKI}"
mkdir -p "${PKI}"
chmod 0700 "${PKI}"
cp "${CA_DIR}/ca.crt" "${PKI}/ca.crt"

# issue NAME SUBJECT EXTENSIONS: an ECDSA key and a one-year certificate signed by the cluster CA.
issue() {
  local name="$1" subject="$2" extensions="$3"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "${subject}" \
    -keyout "${PKI}/${name}.key" -out "${PKI}/${name}.csr" 2>/dev/null
  openssl x509 -req -in "${PKI}/${name}.csr" -CA "${CA_DIR}/ca.crt" -CAkey "${CA_DIR}/ca.key" \
    -CAcreateserial -CAserial "${PKI}/ca.srl" -days 365 -sha256 \
    -extfile <(printf '%s\n' "${extensions}") -out "${PKI}/${name}.crt" 2>/dev/null
  rm -f "${PKI}/${name}.csr"
}

CLIENT="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
issue kubelet "/O=system:nodes/CN=system:node:${NODE_NAME}" "${CLIENT}"
issue kube-proxy "/CN=system:kube-proxy" "${CLIENT}"
issue kube-router "/CN=system:kube-router" "${CLIENT}"
issue kubelet-serving "/O=system:nodes/CN=system:node:${NODE_NAME}" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:${NODE_NAME},IP:${NODE_IP}"

# kubeconfig NAME: a kubeconfig that authenticates with NAME's client certificate.
kubeconfig() {
  local name="$1"
  cat >"${PKI}/${name}.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: ${CLUSTER_NAME}
    cluster:
      server: ${SERVER}
      certificate-authority: ${PKI}/ca.crt
users:
  - name: ${name}
    user:
      client-certificate: ${PKI}/${name}.crt
      client-key: ${PKI}/${name}.key
contexts:
  - name: ${name}
    context: {cluster: ${CLUSTER_NAME}, user: ${name}}
current-context: ${name}
EOF
}
kubeconfig kubelet
kubeconfig kube-proxy
kubeconfig kube-router
echo "node pki: credentials for ${NODE_NAME}, kube-proxy and kube-router signed by the cluster CA"

#!/usr/bin/env bash
# Usage: hack/deploy-dev.sh
# Brings up the dev cluster (hack/cluster/up.sh: kind with Docker, else the local control plane with
# a real node, or simulated nodes where containers cannot run), builds and loads the images, creates
# the objects the DAGs reference, installs the chart with values/dev.yaml and waits for it. Prints
# how to reach the UI and log in. Idempotent: a second run upgrades the release in place.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

case "${1:-}" in
  -h | --help) usage ;;
esac
[[ $# -eq 0 ]] || usage_error "no arguments: the cluster is the one hack/cluster/choose.sh picks"

RELEASE=airflow
NAMESPACE=airflow
VALUES="${REPO}/values/dev.yaml"
KIND_IMAGES=(airflow-on-k8s/airflow:dev airflow-on-k8s/task-example:dev test/image:1.0 airflow-on-k8s/postgresql:15)

[[ -f "${VALUES}" ]] || die "${VALUES} is missing: restore it from git"
[[ -x "${REPO}/.tools/bin/helm" && -x "${REPO}/.tools/bin/kubectl" ]] || die "helm/kubectl missing in .tools/bin: run make setup"
export PATH="${REPO}/.tools/bin:${PATH}"

up_log="$(mktemp)"
trap 'rm -f "${up_log}"' EXIT
"${REPO}/hack/cluster/up.sh" | tee "${up_log}"
export "$(tail -n 1 "${up_log}")" # KUBECONFIG=...
MODE="$(sed -n 's/^cluster: \([a-z]*\) .*/\1/p' "${up_log}")"

case "${MODE}" in
  kind)
    "${REPO}/hack/images/build.sh"
    "${REPO}/hack/cluster/kind/kind.sh" load docker-image --name "$(sed -n 's/^name: //p' "${REPO}/hack/cluster/kind/cluster.yaml")" "${KIND_IMAGES[@]}"
    ;;
  node) "${REPO}/hack/images/build.sh" ;; # loads them into the node's containerd
  kwok) echo "deploy-dev: containers do not run on this cluster, so no images are built (KWOK simulates the pods)" ;;
  *) die "could not tell which cluster hack/cluster/up.sh brought up" ;;
esac

"${REPO}/hack/create-dev-objects.sh"
# No --wait: Helm 3 would wait for the Deployments before starting the post-install migration hook
# they wait for. Helm itself waits for the hook Job; then we wait for the Deployments.
helm upgrade --install "${RELEASE}" "${REPO}/charts/airflow" --namespace "${NAMESPACE}" --create-namespace \
  --values "${VALUES}" --timeout 10m
kubectl --namespace "${NAMESPACE}" wait deployment --selector "app.kubernetes.io/instance=${RELEASE}" \
  --for condition=Available --timeout 10m

echo
echo "deploy-dev: release '${RELEASE}' is installed in namespace '${NAMESPACE}' (${MODE} cluster)"
echo "  export KUBECONFIG=${KUBECONFIG}"
case "${MODE}" in
  node)
    # The real node is this machine, and kube-proxy's rules serve the Service's cluster address here too.
    ip="$(kubectl -n "${NAMESPACE}" get service "${RELEASE}-api-server" -o jsonpath='{.spec.clusterIP}')"
    port="$(kubectl -n "${NAMESPACE}" get service "${RELEASE}-api-server" -o jsonpath='{.spec.ports[0].port}')"
    echo "  UI: http://${ip}:${port} (from this machine), or kubectl -n ${NAMESPACE} port-forward svc/${RELEASE}-api-server 8080:${port}"
    ;;
  kind) echo "  UI: kubectl -n ${NAMESPACE} port-forward svc/${RELEASE}-api-server 8080:8080, then open http://localhost:8080" ;;
  kwok) echo "  UI: none here, containers do not run on simulated nodes" ;;
esac
if [[ "${MODE}" != kwok ]]; then
  # The dev release's generated admin password (values/dev.yaml: SimpleAuthManager, user admin).
  password="$(kubectl -n "${NAMESPACE}" get secret "${RELEASE}-simple-auth-passwords" -o jsonpath='{.data.passwords\.json}' \
    | base64 --decode | python3 -c 'import json, sys; print(json.load(sys.stdin)["admin"])')"
  echo "  login: admin / ${password} (generated on first install; helm get notes ${RELEASE} -n ${NAMESPACE} says where it is kept)"
fi

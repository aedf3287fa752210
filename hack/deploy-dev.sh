#!/usr/bin/env bash
# Bring up a dev cluster and install everything: kind when a Docker daemon is reachable, else the
# local control plane (real API server, RBAC and admission; containers simulated by KWOK).
set -o errexit -o nounset -o pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KIND_VERSION=v0.31.0 # its default node image is the v1.35 one pinned in hack/kind/cluster.yaml
KIND_CONFIG="${REPO}/hack/kind/cluster.yaml"
KIND_CLUSTER="$(sed -n 's/^name: //p' "${KIND_CONFIG}")"
KIND_KUBECONFIG="${REPO}/.kube/kind.yaml"
IMAGES=(airflow-on-k8s/airflow:dev airflow-on-k8s/task-example:dev test/image:1.0)
RELEASE=airflow
NAMESPACE=airflow
VALUES="${REPO}/values/dev.yaml"

if [[ $# -ne 0 ]]; then
  echo "usage: hack/deploy-dev.sh   (no arguments; kind with Docker, else the local control plane)" >&2
  exit 2
fi
die() { echo "deploy-dev: $*" >&2; exit 1; }
[[ -f "${VALUES}" ]] || die "${VALUES} is missing: restore it from git"
[[ -x "${REPO}/.tools/bin/helm" && -x "${REPO}/.tools/bin/kubectl" ]] || die "helm/kubectl missing in .tools/bin: run make setup"
export PATH="${REPO}/.tools/bin:${PATH}"

ensure_kind() {
  if [[ -x "${REPO}/.tools/bin/kind" ]] && "${REPO}/.tools/bin/kind" version | grep -q "kind ${KIND_VERSION} "; then
    return
  fi
  command -v go >/dev/null || die "kind ${KIND_VERSION} is not installed and Go is missing to install it: install Go or kind"
  echo "deploy-dev: installing kind ${KIND_VERSION} into .tools/bin"
  GOBIN="${REPO}/.tools/bin" go install "sigs.k8s.io/kind@${KIND_VERSION}"
}

if docker info >/dev/null 2>&1; then
  MODE=kind
  ensure_kind
  mkdir -p "$(dirname "${KIND_KUBECONFIG}")"
  if kind get clusters 2>/dev/null | grep -qx "${KIND_CLUSTER}"; then
    echo "deploy-dev: kind cluster '${KIND_CLUSTER}' already exists; reusing it"
    kind export kubeconfig --name "${KIND_CLUSTER}" --kubeconfig "${KIND_KUBECONFIG}"
  else
    kind create cluster --config "${KIND_CONFIG}" --kubeconfig "${KIND_KUBECONFIG}" --wait 120s
  fi
  export KUBECONFIG="${KIND_KUBECONFIG}"
  "${REPO}/hack/build-images.sh"
  kind load docker-image --name "${KIND_CLUSTER}" "${IMAGES[@]}"
else
  MODE=local
  echo "deploy-dev: no Docker daemon reachable, so deploying to the local control plane instead: the API server, RBAC and admission are real, but containers are simulated by KWOK and do not run (no Airflow UI)"
  "${REPO}/hack/cluster-up.sh"
  export KUBECONFIG="${REPO}/.kube/local-control-plane.yaml"
fi

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
if [[ "${MODE}" == kind ]]; then
  echo "  UI: kubectl -n ${NAMESPACE} port-forward svc/${RELEASE}-api-server 8080:8080, then open http://localhost:8080"
  echo "  login: see the release notes above (helm get notes ${RELEASE} -n ${NAMESPACE})"
else
  echo "  UI: none here, containers do not run on the local control plane; use a machine with Docker for kind"
fi

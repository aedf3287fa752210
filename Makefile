# Thin targets: each one calls a script in hack/ that does one job.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VALUES ?= values/dev.yaml
# make images: which images (default: those values/dev.yaml runs; see hack/images/build.sh).
IMAGES ?=
# make test-e2e: which e2e modules (default: all of tests/e2e).
E2E ?=
export PATH := $(CURDIR)/.tools/bin:$(PATH)
# kubectl's discovery cache with the rest of this project's cache, not in ~/.kube.
export KUBECACHEDIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/airflow-on-k8s/kubectl

.PHONY: help setup lint render test test-offline test-e2e scan images dev-objects cluster-up cluster-down kind-node-image deploy-dev bench docs clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## Create .venv from uv.lock and install pinned helm 3, helm 4 and kubectl into .tools/bin
	@hack/setup.sh

lint: setup ## ruff (with Airflow AIR rules), shellcheck over hack/, yamllint and helm lint --strict on Helm 3 and 4
	@hack/lint.sh

render: setup ## Print the chart rendered with VALUES (default values/dev.yaml)
	@hack/render.sh "$(VALUES)"

test: setup ## Run the whole test suite
	@hack/test.sh

test-offline: setup ## Only the offline tests (chart, DAGs, images, scan, tools): minutes, no cluster
	@hack/test.sh offline

test-e2e: setup ## Only the e2e tests on a real cluster, or some: make test-e2e E2E=tests/e2e/test_faults.py
	@hack/test.sh e2e $(E2E)

scan: setup ## Conformance and security gates over every values scenario and DAG pod
	@hack/scan.sh

images: setup ## Build the images values/dev.yaml runs (IMAGES="git-server git-sync" or all for more) and load them into the node
	@hack/images/build.sh $(IMAGES)

dev-objects: setup ## Create the Secret, ConfigMap and pull secret the DAGs reference (dev placeholders)
	@hack/create-dev-objects.sh

cluster-up: setup ## Start the cluster hack/cluster/choose.sh picks: kind, or the local control plane with a real node (or simulated nodes)
	@hack/cluster/up.sh

cluster-down: ## Delete the local cluster and everything its node put on this host, or the kind cluster (built binaries and images stay cached)
	@hack/cluster/down.sh

kind-node-image: ## Build kind's node image here, from source and Debian packages (make cluster-up does when kindest/node cannot be pulled)
	@hack/cluster/kind/node-image.sh

deploy-dev: setup ## Bring up the dev cluster (make cluster-up), build and load the images, install the chart and DAGs
	@hack/deploy-dev.sh

bench: setup ## Measure render, parse, suite and cluster costs into bench/results.json
	@hack/bench.sh

docs: setup ## Regenerate the chart README's values table, defaults included, from values.yaml
	@.venv/bin/python hack/gen_chart_readme.py

clean: ## Remove .venv and .tools (the download cache in ~/.cache stays)
	rm -rf .venv .tools .pytest_cache .ruff_cache

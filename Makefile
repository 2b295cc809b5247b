# wnm — developer targets. Each is a thin alias: the scripts under testenv/scripts do the work, so
# a machine without make can run them directly.

GO ?= go
LDFLAGS ?= -s -w

.PHONY: help build demo test bench update deb

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## Build static binaries of wnm and the fake antnode into bin/
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o bin/wnm ./cmd/wnm
	CGO_ENABLED=0 $(GO) build -o bin/fakeantnode ./testenv/cmd/fakeantnode

demo: ## Run wnm on fake antnodes in a scratch directory (no network needed)
	bash testenv/scripts/demo.sh

test: ## Install test dependencies (as root) and run every check and test
	bash testenv/scripts/test.sh

bench: ## Run the benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

update: ## Rewrite golden files and testscript expectations
	WNM_UPDATE=1 $(GO) test ./...

NFPM_VERSION = v2.45.0
GOARCH ?= $(shell $(GO) env GOARCH)
VERSION ?= 0.1.0

deb: build ## Build the Debian package into dist/ with nfpm $(NFPM_VERSION)
	$(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)
	mkdir -p dist
	GOARCH=$(GOARCH) VERSION=$(VERSION) $$($(GO) env GOPATH)/bin/nfpm package --config packaging/deb/nfpm.yaml --packager deb --target dist/

# Chaos harness: SIGKILLs `wnm run` cycles inside their actions on a fake-antnode fleet and checks
# that nothing is left untracked (worker/chaos_test.go). N kills per seed, SEEDS comma-separated.
N ?= 300
SEEDS ?= 1,2,3
.PHONY: chaos
chaos: ## Run the chaos harness: make chaos N=300 SEEDS=1,2,3
	WNM_CHAOS_N=$(N) WNM_CHAOS_SEEDS=$(SEEDS) $(GO) test -count=1 -timeout 0 -run '^TestChaos$$' -v ./worker

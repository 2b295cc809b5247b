# wnm — developer targets. Each is a thin alias: the scripts under testenv/scripts do the work, so
# a machine without make can run them directly.

GO ?= go
LDFLAGS ?= -s -w

.PHONY: help build demo test check bench update deb

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## Build static binaries of wnm and the fake antnode into bin/
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o bin/wnm ./cmd/wnm
	CGO_ENABLED=0 $(GO) build -o bin/fakeantnode ./testenv/cmd/fakeantnode

demo: ## Run wnm on fake antnodes in a scratch directory (no network needed)
	bash testenv/scripts/demo.sh

test: ## Install test dependencies (as root) and run every check and test
	bash testenv/scripts/test.sh

check: ## gofmt, go vet and golangci-lint (.golangci.yml)
	bash testenv/scripts/check.sh

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

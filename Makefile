# wnm — developer targets. Each is a thin alias: the scripts under testenv/scripts and packaging do
# the work, so a machine without make can run them directly.

GO ?= go
export GO

.PHONY: help build demo test check bench bench-go update

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## Build wnm (version from git describe) and the fake antnode into bin/
	bash packaging/dist.sh build
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/fakeantnode ./testenv/cmd/fakeantnode

demo: ## Run wnm on fake antnodes in a scratch directory (no network needed once modules are cached)
	bash testenv/scripts/demo.sh

test: ## Install test dependencies (as root) and run every check and test
	bash testenv/scripts/test.sh

check: ## gofmt, go vet and golangci-lint (.golangci.yml)
	bash testenv/scripts/check.sh

# bench prints the operator-facing table (start-up, idle cycles on real fake-node fleets, bytes
# written, peak RSS) with a goal per row; bench-go runs the package benchmarks. They are apart
# because each takes minutes on a 2-core machine and each would disturb the other's timings.
bench: ## Print the benchmark table of wnm's goals: make bench [BASE=main] [NODES=50,1000] [CYCLES=7] [STARTS=30]
	BASE=$(BASE) bash testenv/scripts/bench.sh $(or $(NODES),50,1000) $(or $(CYCLES),7) $(or $(STARTS),30)

bench-go: ## Run the Go benchmarks of every package
	$(GO) test -run '^$$' -bench . -benchmem ./...

update: ## Rewrite golden files and testscript expectations
	WNM_UPDATE=1 $(GO) test ./...

# Packaging and releases (packaging/dist.sh; nfpm v2.45.0 is installed with go install if missing).
.PHONY: deb dist dist-check deb-test demo-test

deb: ## Build the Debian package for this machine's architecture into dist/
	bash packaging/dist.sh deb

dist: ## Build the release into dist/: 4 static binaries, both .debs, tarball, brew tap, SHA256SUMS
	bash packaging/dist.sh dist

dist-check: ## Build the release twice in two directories and compare the checksums
	bash testenv/scripts/dist-check.sh

deb-test: ## As root: lintian, then dpkg -i/upgrade/disable/mask/remove/purge under a real systemd
	bash testenv/scripts/deb-test.sh

demo-test: ## As root: make demo as root and as nobody while both cores are kept busy, offline
	bash testenv/scripts/demo-test.sh

# Chaos harness: SIGKILLs `wnm run` cycles inside their actions on a fake-antnode fleet and checks
# that nothing is left untracked (worker/chaos_test.go). N kills per seed, SEEDS comma-separated.
N ?= 300
SEEDS ?= 1,2,3
.PHONY: chaos
chaos: ## Run the chaos harness: make chaos N=300 SEEDS=1,2,3
	WNM_CHAOS_N=$(N) WNM_CHAOS_SEEDS=$(SEEDS) $(GO) test -count=1 -timeout 0 -run '^TestChaos$$' -v ./worker

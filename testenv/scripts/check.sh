#!/usr/bin/env bash
# The static checks of wnm: gofmt, go vet, and golangci-lint with the rules in .golangci.yml
# (staticcheck, errorlint, depguard for the package boundaries, ineffassign, unused).
# golangci-lint is built once from the Go module proxy at a pinned version into GOPATH/bin.
set -euo pipefail
cd "$(dirname "$0")/../.."

GOLANGCI_VERSION=v2.15.0

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then echo "not gofmt-ed:"; echo "$unformatted"; exit 1; fi

echo "== go vet"
go vet ./...

echo "== golangci-lint $GOLANGCI_VERSION"
lint="$(go env GOPATH)/bin/golangci-lint"
if ! { [ -x "$lint" ] && "$lint" version 2>/dev/null | grep -q "version ${GOLANGCI_VERSION#v} "; }; then
	echo "   building golangci-lint $GOLANGCI_VERSION (once)"
	go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_VERSION"
fi
"$lint" run ./...

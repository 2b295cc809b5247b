#!/usr/bin/env bash
# Runs every check and test of wnm, installing what the tests need first (as root, from Debian's
# archive): ufw for the firewall tests (run in private namespaces only, never enabled on the host)
# and systemd-container for the systemd integration tests.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v ufw >/dev/null 2>&1 || [ -x /usr/sbin/ufw ] || need+=(ufw)
command -v systemd-nspawn >/dev/null 2>&1 || need+=(systemd-container)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "== installing ${need[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	else
		echo "warning: ${need[*]} missing and not root: the tests that need them will be skipped" >&2
	fi
fi
# Real-system tests fail rather than skip when their tools are missing, if we could install them.
if [ "$(id -u)" = 0 ]; then export WNM_INTEGRATION="${WNM_INTEGRATION:-1}"; fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "not gofmt-ed:"; echo "$unformatted"; exit 1; fi

echo "== go vet"
go vet ./...

echo "== cross builds (CGO_ENABLED=0)"
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64; do
	CGO_ENABLED=0 GOOS=${target%/*} GOARCH=${target#*/} go build ./...
	echo "   $target ok"
done

# Two runs: the race detector over everything with -short (it multiplies CPU time, so the heaviest
# load tests skip themselves), then the whole suite without it.
set +e # run both, then report
echo "== go test -race -short"
go test -race -short -shuffle=on -timeout 30m ./... 2>&1 | tee /tmp/wnm-test-race.log
race=${PIPESTATUS[0]}
echo "== go test"
go test -shuffle=on -timeout 30m ./... 2>&1 | tee /tmp/wnm-test.log
full=${PIPESTATUS[0]}
passed=$(cat /tmp/wnm-test-race.log /tmp/wnm-test.log | grep -c '^ok ' || true)
failed=$(cat /tmp/wnm-test-race.log /tmp/wnm-test.log | grep -c '^FAIL' || true)
echo "$passed passed, $failed failed"
[ "$race" = 0 ] && [ "$full" = 0 ]

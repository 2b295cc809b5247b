#!/usr/bin/env bash
# Runs every check and test of wnm (make test), installing what the tests need first (as root,
# from Debian's archive): ufw for the firewall tests (run in private namespaces only, never enabled
# on the host) and systemd-container for the systemd integration tests.
#
# Progress: one line per package and pass, with its time, so that nothing is silent for long; at
# the end an honest count: packages passed, failed and without tests, per pass. Logs and every
# temporary file (TMPDIR, the Go tests' temp dirs, fake antnode copies) live in one directory,
# removed at the end; WNM_TEST_KEEP=1 keeps it, and a failure prints where the logs are.
# The Debian package test and the release reproducibility check are separate (.ci/run runs all
# three): testenv/scripts/deb-test.sh and testenv/scripts/dist-check.sh.
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

# Short paths: tests build unix socket paths under TMPDIR, which must stay within 108 bytes.
work=$(mktemp -d "${TMPDIR:-/tmp}/wnmt.XXXXXX")
mkdir -p "$work/t" "$work/logs"
# Like /tmp: tests run nodes as other accounts, which must reach their directories.
chmod 755 "$work"
chmod 1777 "$work/t"
keep=${WNM_TEST_KEEP:-}
cleanup() {
	if [ "$keep" = 1 ]; then
		echo "logs and temporary files kept in $work"
	else
		chmod -R u+w "$work" 2>/dev/null || true
		rm -rf "$work"
	fi
}
trap cleanup EXIT
export TMPDIR="$work/t" GOTMPDIR="$work/t"
begin=$(date +%s)
elapsed() { echo "$(($(date +%s) - begin))s"; }

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "not gofmt-ed:"; echo "$unformatted"; exit 1; fi

echo "== go vet ($(elapsed))"
go vet ./...

echo "== cross builds, CGO_ENABLED=0 ($(elapsed))"
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64; do
	CGO_ENABLED=0 GOOS=${target%/*} GOARCH=${target#*/} go build ./...
	echo "   $target ok ($(elapsed))"
done

mapfile -t pkgs < <(go list ${WNM_TEST_PACKAGES:-./...}) # WNM_TEST_PACKAGES: a narrower list of patterns
# pass NAME FLAGS...: go test each package in turn, one line each as it ends. Each package's
# output is in $work/logs/NAME/<package>.log; a failure's tail is printed at once.
declare -A passed failed notests
pass() {
	local name=$1 n=${#pkgs[@]} i=0 pkg log t0 rc
	shift
	passed[$name]=0 failed[$name]=0 notests[$name]=0
	mkdir -p "$work/logs/$name"
	echo "== go test $* ($n packages, $(elapsed))"
	for pkg in "${pkgs[@]}"; do
		i=$((i + 1))
		log="$work/logs/$name/${pkg//\//_}.log"
		t0=$(date +%s)
		rc=0
		go test "$@" "$pkg" >"$log" 2>&1 || rc=$?
		local short=${pkg#github.com/wnm-project/wnm}
		short=${short#/}
		short=${short:-.}
		if [ "$rc" != 0 ]; then
			failed[$name]=$((failed[$name] + 1))
			printf '   [%2d/%d] FAIL %-28s %4ss\n' "$i" "$n" "$short" "$(($(date +%s) - t0))"
			tail -n 40 "$log" | sed 's/^/        /'
		elif grep -q '\[no test files\]' "$log"; then
			notests[$name]=$((notests[$name] + 1))
			printf '   [%2d/%d] --   %-28s (no tests)\n' "$i" "$n" "$short"
		else
			passed[$name]=$((passed[$name] + 1))
			printf '   [%2d/%d] ok   %-28s %4ss\n' "$i" "$n" "$short" "$(($(date +%s) - t0))"
		fi
	done
}

# Two passes: the race detector with -short (it multiplies CPU time, so the heaviest load tests
# skip themselves), then the whole suite without it.
pass race -race -short -shuffle=on -count=1 -timeout 30m
pass full -shuffle=on -count=1 -timeout 30m

echo "== summary ($(elapsed))"
total_failed=0
for name in race full; do
	echo "   $name: ${passed[$name]} packages passed, ${failed[$name]} failed, ${notests[$name]} without tests (of ${#pkgs[@]})"
	total_failed=$((total_failed + failed[$name]))
done
if [ "$total_failed" != 0 ]; then
	keep=1
	exit 1
fi

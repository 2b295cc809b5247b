#!/usr/bin/env bash
# The Debian package, end to end (make deb-test; .ci/run runs it). As root:
#   1. installs what it needs from Debian's archive: debootstrap, lintian, systemd-container;
#   2. builds the package twice: this commit's version, and the same with a higher version for
#      the upgrade (packaging/dist.sh deb);
#   3. runs lintian: no error or warning may remain (the static-binary override is shipped);
#   4. debootstraps a minimal Debian with systemd, once, into $WNM_CI_CACHE (default
#      /var/cache/wnm-ci), where reruns find it;
#   5. runs TestDebPackage (testenv/nspawn), which boots that Debian with systemd-nspawn over a
#      throwaway overlay and goes through dpkg -i, the first tick, wnm init, the next tick,
#      disable + upgrade, mask, remove and purge.
# Environment: WNM_DEB_SUITE (default bookworm), WNM_DEB_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" != 0 ]; then
	echo "deb-test: needs root (debootstrap, dpkg inside systemd-nspawn)" >&2
	exit 1
fi
need=()
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v lintian >/dev/null 2>&1 || need+=(lintian)
command -v systemd-nspawn >/dev/null 2>&1 || need+=(systemd-container)
if [ ${#need[@]} -gt 0 ]; then
	echo "== installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/wnm-deb-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== building the package twice (this version, and a higher one for the upgrade)"
eval "$(packaging/version.sh)"
DIST="$work/old" bash packaging/dist.sh deb >/dev/null
WNM_VERSION="$VERSION.1" DIST="$work/new" bash packaging/dist.sh deb >/dev/null
old=$(ls "$work"/old/wnm_*.deb)
new=$(ls "$work"/new/wnm_*.deb)
echo "   $(basename "$old"), $(basename "$new")"

echo "== lintian"
# lintian refuses nothing as root but says it is not recommended; that line is not a finding.
lintian --fail-on error,warning --display-info --show-overrides "$old" 2>&1 | grep -v '^running with root privileges' || true
lintian --fail-on error,warning "$old" >/dev/null 2>&1 || { echo "lintian found errors or warnings" >&2; exit 1; }

suite=${WNM_DEB_SUITE:-bookworm}
cache=${WNM_CI_CACHE:-/var/cache/wnm-ci}
root="$cache/debian-$suite"
if [ ! -e "$root.complete" ]; then
	echo "== debootstrap $suite into $root (once; reruns reuse it)"
	mkdir -p "$cache"
	rm -rf "$root" "$root.tmp"
	debootstrap --variant=minbase --include=systemd,systemd-sysv,adduser,init-system-helpers,procps \
		"$suite" "$root.tmp" "${WNM_DEB_MIRROR:-http://deb.debian.org/debian}" >"$cache/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
	mv "$root.tmp" "$root"
	touch "$root.complete"
fi

echo "== dpkg -i / upgrade / disable / mask / remove / purge under systemd in $root"
WNM_INTEGRATION=1 WNM_DEB_ROOT="$root" WNM_DEB_OLD="$old" WNM_DEB_NEW="$new" \
	go test -count=1 -run '^TestDebPackage$' -v ./testenv/nspawn 2>&1 | tee "$work/test.log" | grep -E '^(=== RUN|--- |\s+deb_test|ok|FAIL|PASS)' || true
grep -q '^--- PASS: TestDebPackage' "$work/test.log" || { cat "$work/test.log" >&2; exit 1; }

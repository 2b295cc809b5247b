#!/usr/bin/env bash
# Checks that `make dist` is reproducible: clones this commit into two directories of different
# names and depths, builds the release in each (the second with an empty Go build cache, so that
# nothing is reused from the first), and compares their SHA256SUMS. Uncommitted changes are not
# part of the check: it builds what is committed. SOURCE_DATE_EPOCH defaults to the commit's time
# in both builds (packaging/version.sh). Set WNM_DIST_CHECK_SHARED_CACHE=1 to let the second
# build use the normal build cache (faster, weaker).
set -euo pipefail
cd "$(dirname "$0")/../.."
commit=$(git rev-parse HEAD)
work=$(mktemp -d "${TMPDIR:-/tmp}/wnm-dist-check.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

build() { # build DIR [GOCACHE]
	git clone -q --no-hardlinks "$PWD" "$1"
	git -C "$1" -c advice.detachedHead=false checkout -q "$commit"
	(
		cd "$1"
		if [ -n "${2:-}" ]; then export GOCACHE=$2; fi
		unset SOURCE_DATE_EPOCH WNM_VERSION WNM_COMMIT
		DIST=dist bash packaging/dist.sh dist >/dev/null
	)
}
echo "== dist-check: building $commit twice"
start=$(date +%s)
build "$work/a/wnm"
echo "   first build: $(($(date +%s) - start)) s"
cache=
[ "${WNM_DIST_CHECK_SHARED_CACHE:-}" = 1 ] || cache="$work/gocache"
start=$(date +%s)
build "$work/second/build/of/wnm-$$" "$cache"
echo "   second build: $(($(date +%s) - start)) s"
if ! diff -u "$work/a/wnm/dist/SHA256SUMS" "$work/second/build/of/wnm-$$/dist/SHA256SUMS"; then
	echo "dist-check: the two builds differ" >&2
	exit 1
fi
echo "dist-check: identical ($(wc -l <"$work/a/wnm/dist/SHA256SUMS") files):"
sed 's/^/   /' "$work/a/wnm/dist/SHA256SUMS"

#!/bin/sh
# Writes the Homebrew formula of one release: packaging/brew/Formula/wnm.rb with the release's
# url, the sha256 of its source tarball and its commit filled in (make dist runs it).
# Usage: fill.sh TARBALL URL COMMIT OUT
set -eu
[ $# = 4 ] || { echo "usage: $0 TARBALL URL COMMIT OUT" >&2; exit 2; }
tarball=$1 url=$2 commit=$3 out=$4
formula="$(dirname "$0")/Formula/wnm.rb"
sha=$(sha256sum "$tarball" | cut -d' ' -f1)
case $url in *'|'* | *'"'* | *'\'*) echo "fill.sh: url $url contains | \" or \\" >&2; exit 1 ;; esac
case $commit in *[!0-9a-z-]*) echo "fill.sh: commit $commit is not a hash" >&2; exit 1 ;; esac
mkdir -p "$(dirname "$out")"
sed -e "s|^  url \".*\"|  url \"$url\"|" \
	-e "s|^  sha256 \".*\"|  sha256 \"$sha\"|" \
	-e "s|COMMIT = \".*\"|COMMIT = \"$commit\"|" \
	"$formula" >"$out.tmp"
# Each of the three must have been replaced exactly once.
for want in "  url \"$url\"" "  sha256 \"$sha\"" "COMMIT = \"$commit\""; do
	if [ "$(grep -cF "$want" "$out.tmp")" != 1 ]; then
		rm -f "$out.tmp"
		echo "fill.sh: $formula has no single line to carry $want" >&2
		exit 1
	fi
done
mv "$out.tmp" "$out"

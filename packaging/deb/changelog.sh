#!/bin/sh
# Writes the Debian changelog of the wnm package for VERSION to stdout: one entry, dated
# SOURCE_DATE_EPOCH, listing the commits since the previous v* tag (at most 30), so that two
# builds of one commit give the same bytes. Usage: changelog.sh VERSION MAINTAINER
set -eu
cd "$(dirname "$0")/../.."
version=$1
maintainer=$2
: "${SOURCE_DATE_EPOCH:?SOURCE_DATE_EPOCH must be set}"
range=HEAD
if prev=$(git describe --tags --abbrev=0 --match 'v[0-9]*' HEAD^ 2>/dev/null); then range="$prev..HEAD"; fi
printf 'wnm (%s) unstable; urgency=medium\n\n' "$version"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git log --no-merges --format='%s' -n 30 "$range" | cut -c1-72 | sed 's/^/  * /'
else
	echo "  * Release $version."
fi
printf '\n -- %s  %s\n' "$maintainer" "$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a, %d %b %Y %H:%M:%S +0000')"

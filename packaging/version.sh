#!/bin/sh
# Prints wnm's build identity, for every build path (make build, deb, dist; the Homebrew formula
# gets the same values from make dist):
#   packaging/version.sh            VERSION=… COMMIT=… DATE=… lines, for eval
#   packaging/version.sh --ldflags  the -X flags that stamp them into cmd/wnm
# VERSION comes from `git describe`: a v0.x.y tag gives 0.x.y; n commits after it give
# 0.x.y+n.g<hash>, which sorts after 0.x.y for dpkg and for semver alike; uncommitted changes add
# .dirty (+dirty on a tag). Without any v* tag the base is 0.0.0 and n counts every commit.
# COMMIT is the full hash (-dirty likewise). DATE is SOURCE_DATE_EPOCH, by default the commit's
# own time, as UTC RFC 3339, so that two builds of one commit are identical.
# WNM_VERSION, WNM_COMMIT and SOURCE_DATE_EPOCH override; outside git they are needed.
set -eu
cd "$(dirname "$0")/.."

dirty=
if git rev-parse --git-dir >/dev/null 2>&1; then
	git update-index -q --refresh >/dev/null 2>&1 || true
	git diff-index --quiet HEAD -- 2>/dev/null || dirty=1
	hash=$(git rev-parse HEAD)
	short=$(git rev-parse --short=7 HEAD)
	if desc=$(git describe --tags --long --match 'v[0-9]*' 2>/dev/null); then
		# v0.1.0-3-gabc1234 (a tag may itself contain hyphens: split from the right)
		n=${desc%-g*}
		tag=${n%-*}
		n=${n##*-}
		base=${tag#v}
	else
		base=0.0.0
		n=$(git rev-list --count HEAD)
	fi
	if [ "$n" = 0 ]; then v=$base; else v="$base+$n.g$short"; fi
	if [ -n "$dirty" ]; then
		case $v in *+*) v="$v.dirty" ;; *) v="$v+dirty" ;; esac
		hash="$hash-dirty"
	fi
	: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct HEAD)}"
else
	v=unknown
	hash=unknown
fi
VERSION=${WNM_VERSION:-$v}
COMMIT=${WNM_COMMIT:-$hash}
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	DATE=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
else
	DATE=unknown
fi

case "${1:-}" in
--ldflags) printf '%s\n' "-X main.version=$VERSION -X main.commit=$COMMIT -X main.date=$DATE" ;;
"") printf 'VERSION=%s\nCOMMIT=%s\nDATE=%s\nSOURCE_DATE_EPOCH=%s\n' "$VERSION" "$COMMIT" "$DATE" "${SOURCE_DATE_EPOCH:-}" ;;
*) echo "usage: $0 [--ldflags]" >&2; exit 2 ;;
esac

#!/bin/sh
# Prints wnm's build identity, for every build path (make build, deb, dist, demo; the Homebrew
# formula gets the same values from make dist):
#   packaging/version.sh            VERSION=… COMMIT=… DATE=… lines, for eval
#   packaging/version.sh --ldflags  the -X flags that stamp them into cmd/wnm
#
# VERSION is x.y.z, or x.y.z+n.g<hash> n commits later (which sorts after x.y.z for dpkg, and
# ranks with it for semver), counted from one of two anchors:
#   - the nearest v* tag (`git describe`): a release is tagged vx.y.z;
#   - packaging/VERSION, the committed release line, counting the commits since the one that
#     last changed it. A release commit sets it to x.y.z and is then tagged vx.y.z, so that a
#     checkout without tags (CI often clones so) gets the same version as one with them.
# The tag wins, unless packaging/VERSION changed after it (the next release line has begun).
# A shallow clone that lacks the commit that changed packaging/VERSION cannot count: it gets
# x.y.z+shallow.g<hash> and a warning. Uncommitted changes add .dirty (x.y.z+0.dirty on a
# release commit, so that it sorts before the next commit).
# COMMIT is the full hash (-dirty likewise). DATE is SOURCE_DATE_EPOCH, by default the commit's
# own time, as UTC RFC 3339, so that two builds of one commit are identical.
# WNM_VERSION, WNM_COMMIT and SOURCE_DATE_EPOCH override; outside git (a source tarball) the
# version is packaging/VERSION's, and the commit and date are unknown unless given.
set -eu
cd "$(dirname "$0")/.."

warn() { echo "version.sh: $*" >&2; }

file=packaging/VERSION
fbase=
if [ -f "$file" ]; then
	fbase=$(tr -d ' \t\r\n' <"$file")
	if ! printf '%s\n' "$fbase" | grep -Eqx '(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)'; then
		warn "$file holds \"$fbase\", not a version x.y.z"
		exit 1
	fi
fi

dirty=
if git rev-parse --git-dir >/dev/null 2>&1; then
	git update-index -q --refresh >/dev/null 2>&1 || true
	git diff-index --quiet HEAD -- 2>/dev/null || dirty=1
	hash=$(git rev-parse HEAD)
	short=$(git rev-parse --short=7 HEAD)
	# The file's anchor: the last commit that changed it (none while it is uncommitted).
	fcommit=
	if [ -n "$fbase" ]; then fcommit=$(git log -1 --format=%H -- "$file"); fi
	base= n=
	if desc=$(git describe --tags --long --match 'v[0-9]*' 2>/dev/null); then
		# v0.1.0-3-gabc1234 (a tag may itself contain hyphens: split from the right)
		n=${desc%-g*}
		tag=${n%-*}
		n=${n##*-}
		base=${tag#v}
		tcommit=$(git rev-list -n 1 "$tag")
		if [ -n "$fcommit" ] && [ "$fcommit" != "$tcommit" ] && git merge-base --is-ancestor "$tcommit" "$fcommit"; then
			base= # packaging/VERSION changed after the tag: the file's line is the newer
		elif [ "$n" = 0 ] && [ -n "$fbase" ] && [ "$fbase" != "$base" ]; then
			warn "HEAD is tagged $tag but $file says $fbase: a checkout without tags would call it $fbase"
		fi
	fi
	if [ -z "$base" ]; then
		if [ -z "$fbase" ]; then
			base=0.0.0
			n=$(git rev-list --count HEAD)
		elif [ -z "$fcommit" ]; then
			base=$fbase
			n=$(git rev-list --count HEAD)
		elif [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = true ] &&
			grep -qx "$fcommit" "$(git rev-parse --git-path shallow)" 2>/dev/null; then
			warn "shallow clone: the commits since $file changed cannot be counted (git fetch --unshallow counts them)"
			base=$fbase
			n=shallow
		else
			base=$fbase
			n=$(git rev-list --count "$fcommit..HEAD")
		fi
	fi
	if [ "$n" = 0 ]; then v=$base; else v="$base+$n.g$short"; fi
	if [ -n "$dirty" ]; then
		case $v in *+*) v="$v.dirty" ;; *) v="$v+0.dirty" ;; esac
		hash="$hash-dirty"
	fi
	: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct HEAD)}"
else
	# A source tarball: packaging/VERSION names its release, unless WNM_VERSION says otherwise.
	v=${fbase:-unknown}
	hash=unknown
	[ -n "${WNM_VERSION:-}" ] || warn "not a git checkout: version $v from $file (set WNM_VERSION if this is not that release)"
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

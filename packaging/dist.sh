#!/usr/bin/env bash
# Builds wnm's release artefacts. Every path stamps the same version, commit and date
# (packaging/version.sh) and builds with CGO_ENABLED=0 -trimpath, so that SOURCE_DATE_EPOCH (by
# default the commit's time) is the only clock involved and two builds of one commit, in any two
# directories, give identical files (testenv/scripts/dist-check.sh checks it).
#
#   packaging/dist.sh build            bin/wnm for this machine
#   packaging/dist.sh deb [ARCH...]    dist/wnm_<version>_<arch>.deb (default: this machine's arch)
#   packaging/dist.sh dist             the four static binaries (linux, darwin × amd64, arm64),
#                                      both .debs, the source tarball, the Homebrew tap with the
#                                      formula's url and sha256 filled, and SHA256SUMS, in dist/
#
# Environment: GO (default go), DIST (default dist), DEB_MAINTAINER, WNM_VERSION, WNM_COMMIT,
# SOURCE_DATE_EPOCH (see version.sh), RELEASE_URL (where the source tarball will be published).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
DIST=${DIST:-dist}
NFPM_VERSION=v2.45.0
# The maintainer the package, its changelog and copyright file name; the README and the Homebrew
# formula give the same address (testenv/release checks it). DEB_MAINTAINER overrides it, for a
# rebuild by someone else.
: "${DEB_MAINTAINER:=wnm developers <developers@wnm-project.org>}"
export DEB_MAINTAINER

eval "$(packaging/version.sh)"
export SOURCE_DATE_EPOCH VERSION
ldflags="-s -w $(packaging/version.sh --ldflags)"
: "${RELEASE_URL:=https://github.com/wnm-project/wnm/releases/download/v$VERSION}"

# gobuild GOOS GOARCH OUT: one static, path-free build of cmd/wnm.
gobuild() {
	CGO_ENABLED=0 GOOS=$1 GOARCH=$2 "$GO" build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$3" ./cmd/wnm
}

# nfpm: the pinned nfpm, installed with go install from the Go module proxy when missing.
nfpm() {
	local bin
	bin="$("$GO" env GOPATH | cut -d: -f1)/bin/nfpm"
	if [ -n "$("$GO" env GOBIN)" ]; then bin="$("$GO" env GOBIN)/nfpm"; fi
	if ! [ -x "$bin" ] || ! "$GO" version -m "$bin" 2>/dev/null | grep -q "nfpm/v2[[:space:]]*$NFPM_VERSION"; then
		echo "installing nfpm $NFPM_VERSION" >&2
		"$GO" install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION"
	fi
	"$bin" "$@"
}

# package_files: what every .deb ships besides the binary, rendered by this version's own code
# (`wnm dist-files`: units through gen, man page from the command tree), built for this machine.
package_files() {
	mkdir -p build/package
	CGO_ENABLED=0 "$GO" build -trimpath -buildvcs=false -ldflags "$ldflags" -o build/host-wnm ./cmd/wnm
	build/host-wnm dist-files --out build/package >/dev/null
	gzip -n -9 -c build/package/wnm.1 >build/package/wnm.1.gz
	packaging/deb/changelog.sh "$VERSION" "$DEB_MAINTAINER" | gzip -n -9 -c >build/package/changelog.gz
	# nfpm takes file modes from the file_info entries and mtimes from SOURCE_DATE_EPOCH.
}

deb() {
	local arch=$1
	gobuild linux "$arch" build/package/wnm # nfpm expands no variables in source paths
	# The copyright file lists what this very binary links, with the licences from the module
	# cache (packaging/deb/gencopyright); a module it cannot account for stops the build.
	"$GO" run ./packaging/deb/gencopyright -binary build/package/wnm -modcache "$("$GO" env GOMODCACHE)" \
		-goroot "$("$GO" env GOROOT)" -contact "$DEB_MAINTAINER" -o build/package/copyright
	mkdir -p "$DIST"
	GOARCH=$arch nfpm package --config packaging/deb/nfpm.yaml --packager deb \
		--target "$DIST/wnm_${VERSION}_$arch.deb" >/dev/null
	echo "$DIST/wnm_${VERSION}_$arch.deb"
}

case "${1:-}" in
build)
	mkdir -p bin
	CGO_ENABLED=0 "$GO" build -trimpath -buildvcs=false -ldflags "$ldflags" -o bin/wnm ./cmd/wnm
	echo "bin/wnm: $(bin/wnm version | head -n1)"
	;;
deb)
	shift
	[ $# -gt 0 ] || set -- "$("$GO" env GOARCH)"
	package_files
	for arch in "$@"; do deb "$arch"; done
	;;
dist)
	rm -rf "$DIST"
	mkdir -p "$DIST"
	for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64; do
		os=${target%/*} arch=${target#*/}
		gobuild "$os" "$arch" "$DIST/wnm-$VERSION-$os-$arch"
		echo "$DIST/wnm-$VERSION-$os-$arch"
	done
	package_files
	deb amd64
	deb arm64
	# The source tarball the Homebrew formula builds from: git archive is deterministic for a
	# commit (file mtimes are the commit's time), gzip -n stores no name or time.
	src="$DIST/wnm-$VERSION.tar.gz"
	git archive --format=tar --prefix="wnm-$VERSION/" HEAD | gzip -n -9 >"$src"
	echo "$src"
	# The tap, ready to publish as homebrew-wnm: the formula with this release's url and sha256.
	sh packaging/brew/fill.sh "$src" "$RELEASE_URL/wnm-$VERSION.tar.gz" "$COMMIT" "$DIST/homebrew-wnm/Formula/wnm.rb"
	touch -d "@$SOURCE_DATE_EPOCH" "$DIST/homebrew-wnm/Formula/wnm.rb"
	echo "$DIST/homebrew-wnm/Formula/wnm.rb"
	(cd "$DIST" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
	echo "$DIST/SHA256SUMS"
	;;
*)
	echo "usage: $0 build | deb [ARCH...] | dist" >&2
	exit 2
	;;
esac

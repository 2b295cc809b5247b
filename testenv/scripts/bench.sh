#!/usr/bin/env bash
# wnm benchmark table (make bench), for root and for any user, without network once the Go modules
# are cached. It builds wnm, the fake antnode and the benchmark driver (testenv/cmd/wnmbench) into
# a scratch directory, then prints one table: the start-up of `wnm --version` and `wnm --help`,
# and idle cycles of `wnm run` on fleets of real fake-antnode processes (50 and 1,000 by default)
# that answer /metrics with a real antnode's 47 KB answer, with the bytes written and the peak RSS
# of a cycle, each row with its goal and pass or FAIL. Each figure is a median of several runs.
# Every process started is stopped and the scratch directories are removed on exit.
# With BASE set to a git revision (BASE=main), the wnm of that revision is built too and measured
# in the same run, its start-ups and cycles alternating with this tree's on the same fleet, so that
# the "before" and "wnm" columns compare under the same load.
# With PROFILE_DIR set, every measured cycle of this tree's wnm writes a CPU profile there
# (wnm run --cpuprofile; read them with go tool pprof).
# Usage: [BASE=rev] [PROFILE_DIR=dir] testenv/scripts/bench.sh [NODES=50,1000] [CYCLES=7] [STARTS=30]
# Bringing up the 1,000-node fleet takes several minutes: wnm copies and syncs the node binary for
# every node it adds. NODES=50 gives a quick table.
# Exit status: 0 when every goal is met, 1 when one is not, 2 on a build failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
nodes=${1:-50,1000}
cycles=${2:-7}
starts=${3:-30}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/wnm-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
build() {
	CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "$(packaging/version.sh --ldflags)" -o "$scratch/wnm" ./cmd/wnm &&
		CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$scratch/fakeantnode" ./testenv/cmd/fakeantnode &&
		CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$scratch/wnmbench" ./testenv/cmd/wnmbench &&
		if [ -n "${BASE:-}" ]; then
			rm -rf "$scratch/base-src" && mkdir "$scratch/base-src" &&
				git archive "$BASE" | tar -x -C "$scratch/base-src" &&
				(cd "$scratch/base-src" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$scratch/wnm-base" ./cmd/wnm)
		fi
}
# Offline first; download only modules that are missing.
if ! GOPROXY=off build 2>"$scratch/build.log"; then
	if grep -q 'GOPROXY=off' "$scratch/build.log"; then
		build || exit 2
	else
		cat "$scratch/build.log" >&2
		exit 2
	fi
fi
base=()
[ -n "${BASE:-}" ] && base=(-base "$scratch/wnm-base")
[ -n "${PROFILE_DIR:-}" ] && mkdir -p "$PROFILE_DIR" && base+=(-cpuprofile "$PROFILE_DIR")
TMPDIR="$scratch" "$scratch/wnmbench" -wnm "$scratch/wnm" "${base[@]}" -fake "$scratch/fakeantnode" \
	-capture worker/survey/openmetrics/testdata/antnode-metrics.txt \
	-nodes "$nodes" -cycles "$cycles" -starts "$starts"

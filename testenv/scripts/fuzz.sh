#!/usr/bin/env bash
# Runs every fuzz target of the module for a bounded time each (FUZZTIME, default 10s), one after
# the other, and fails on the first input that breaks one. The seed corpora (f.Add and
# testdata/fuzz) already run as ordinary tests in `go test ./...`; this explores beyond them.
# A failing input is written under the package's testdata/fuzz/<Target>/: commit it with the fix
# so it stays a regression test.
#
#   bash testenv/scripts/fuzz.sh              # every target, 10 s each
#   FUZZTIME=1m bash testenv/scripts/fuzz.sh FuzzParseArgs   # only targets matching a pattern
set -euo pipefail
cd "$(dirname "$0")/../.."

fuzztime=${FUZZTIME:-10s}
pattern=${1:-.}
failed=0
count=0
# Each line: <package dir> <target>.
targets=$(grep -rE --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]+\(' . |
	sed -E 's#^\./(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+)\($#\1 \2#' | sort -u)
while read -r dir target; do
	[ -n "$target" ] || continue
	if ! grep -qE -- "$pattern" <<<"$target"; then continue; fi
	count=$((count + 1))
	echo "== $dir $target ($fuzztime)"
	if ! go test "./$dir" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" 2>&1 | grep -vE '^fuzz: elapsed'; then
		echo "FAIL: $dir $target" >&2
		failed=$((failed + 1))
	fi
done <<<"$targets"
echo "fuzz: $count targets run, $failed failed"
[ "$count" -gt 0 ] && [ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Checks the first run (.ci/run runs it): `make demo` passes as root and as an unprivileged user
# while two busy loops keep both cores busy, offline, and leaves nothing behind. As root:
#   1. starts two busy loops (nice 19: they take every cycle nothing else wants, so the CPU reads
#      100 % busy while the demo still gets its turn) and checks that /proc/stat reads busy;
#   2. runs `make demo` in this tree as root, with GOPROXY=off;
#   3. runs it again as the unprivileged account $WNM_DEMO_USER (default nobody) in a copy of this
#      tree (committed files plus uncommitted changes to them), with a fresh HOME and TMPDIR, a
#      module cache filled beforehand from root's (a file:// proxy, no network) and GOPROXY=off,
#      so that the demo cannot download anything. Its Go build cache is kept under
#      $WNM_CI_CACHE/demo-gocache (default /var/cache/wnm-ci), like deb-test's Debian root: the
#      first run compiles wnm from scratch, later ones reuse it;
#   4. checks each run's exit status and output: the fleet grew to 4 nodes, the new release
#      rolled through it, node_cap 2 shrank it, nothing was downloaded, the demo's private
#      namespace was used;
#   5. stops the busy loops and checks that no process started from the demo is left and that
#      its scratch directories are gone.
# Each demo run is bounded (10 minutes as root, 20 as the other account, whose first build
# compiles the standard library and every module from scratch); the scenario itself takes about
# half a minute once wnm is built.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD

if [ "$(id -u)" != 0 ]; then
	echo "demo-test: needs root (it runs the demo as root and as another account)" >&2
	exit 1
fi
user=${WNM_DEMO_USER:-nobody}
group=$(id -gn "$user")
gobin=$(dirname "$(command -v go)")
cache=${WNM_CI_CACHE:-/var/cache/wnm-ci}

work=$(mktemp -d "${TMPDIR:-/tmp}/wnm-demo-test.XXXXXX")
chmod 0755 "$work"
busy=()
cleanup() {
	for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "demo-test: $*" >&2
	exit 1
}

# busy_percent: the share of CPU time not idle over one second, from /proc/stat.
busy_percent() {
	local a b
	a=$(awk '$1 == "cpu" { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat)
	sleep 1
	b=$(awk '$1 == "cpu" { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[1] - x[1]; i = y[2] - x[2]; printf "%d", (t > 0 ? 100 * (t - i) / t : 0) }'
}

# check NAME LOG: the scenario's milestones are in the demo's output, and no download.
check() {
	local name=$1 log=$2
	for want in \
		"host figures: a private mount namespace where /proc/stat shows an idle CPU" \
		"4 nodes: 4 running, 0 stopped, 0 restarting, 0 upgrading, 0 removing, 0 disabled, 0 dead" \
		"== a new antnode is released: it rolls through the fleet" \
		"== node_cap lowered to 2: the youngest nodes are removed" \
		"2 nodes: 2 running, 0 stopped, 0 restarting, 0 upgrading, 0 removing, 0 disabled, 0 dead" \
		"no add: 2 nodes ≥ node_cap 2" \
		"demo finished; cleaning up"; do
		grep -qF -- "$want" "$log" || { tail -n 40 "$log" >&2; fail "$name: the demo's output lacks \"$want\""; }
	done
	if [ "$(grep -c 'RUNNING  0.4.18' "$log")" -lt 6 ]; then
		tail -n 40 "$log" >&2
		fail "$name: the release 0.4.18 did not roll through the fleet"
	fi
	if grep -q "downloading them\|warning: no private namespace" "$log"; then
		fail "$name: $(grep "downloading them\|warning: no private namespace" "$log" | head -n1)"
	fi
}

# leftovers NAME DIR: no process runs from DIR or has it in its command line, and the demo's
# scratch directory (under DIR's tmp) is gone.
leftovers() {
	local name=$1 dir=$2 left
	# One grep over every command line and one ls over every executable: a loop forking per
	# process takes minutes on a loaded host.
	left=$({
		grep -lsF -- "$dir/" /proc/[0-9]*/cmdline | sed 's|^/proc/\([0-9]*\)/cmdline$|\1|'
		ls -l /proc/[0-9]*/exe 2>/dev/null | grep -F -- "-> $dir/" | sed 's|.*/proc/\([0-9]*\)/exe .*|\1|'
	} | sort -u | grep -vx "$$" || true)
	left=$(for p in $left; do [ -e "/proc/$p" ] && echo "$p"; done || true) # not the grep itself, gone by now
	[ -z "$left" ] || fail "$name: processes left behind: $(for p in $left; do printf '%s(%s) ' "$p" "$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | cut -c1-80)"; done)"
	[ -z "$(ls -A "$dir/tmp")" ] || fail "$name: left in its TMPDIR: $(ls -A "$dir/tmp")"
}

echo "== two busy loops (nice 19) on $(nproc) cores"
for _ in 1 2; do
	nice -n 19 sh -c 'while :; do :; done' &
	busy+=($!)
done
sleep 1
load=$(busy_percent)
echo "   /proc/stat: ${load}% busy"
[ "$load" -ge 90 ] || fail "the busy loops keep the CPU only ${load}% busy"

echo "== make demo as root (GOPROXY=off)"
mkdir -p "$work/root/tmp"
start=$(date +%s)
if ! TMPDIR="$work/root/tmp" GOPROXY=off timeout -k 10 600 make -s demo >"$work/root.log" 2>&1; then
	tail -n 40 "$work/root.log" >&2
	fail "make demo as root failed"
fi
echo "   passed in $(($(date +%s) - start)) s"
check root "$work/root.log"
leftovers root "$work/root"

echo "== make demo as $user (fresh HOME, module cache filled offline, GOPROXY=off)"
u="$work/user"
mkdir -p "$u/home" "$u/tmp"
git clone -q --no-hardlinks "$top" "$u/src"
git -C "$u/src" -c advice.detachedHead=false checkout -q "$(git rev-parse HEAD)"
git diff HEAD --binary | git -C "$u/src" apply --allow-empty
proxy="file://$(go env GOMODCACHE)/cache/download"
(cd "$u/src" && GOMODCACHE="$u/modcache" GOPROXY="$proxy" GOSUMDB=off GOFLAGS= go mod download) || fail "root's module cache lacks modules the demo needs (run go mod download once)"
mkdir -p "$cache/demo-gocache"
chown -R "$user:$group" "$u" "$cache/demo-gocache"
chmod 0700 "$cache/demo-gocache"
start=$(date +%s)
if ! (cd "$u/src" && setpriv --reuid="$user" --regid="$group" --clear-groups -- env -i \
	PATH="$gobin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" HOME="$u/home" USER="$user" LOGNAME="$user" \
	TMPDIR="$u/tmp" LANG=C.UTF-8 GOMODCACHE="$u/modcache" GOCACHE="$cache/demo-gocache" GOPROXY=off GOTOOLCHAIN=local \
	timeout -k 10 1200 make -s demo) >"$work/user.log" 2>&1; then
	tail -n 40 "$work/user.log" >&2
	fail "make demo as $user failed"
fi
echo "   passed in $(($(date +%s) - start)) s"
check "$user" "$work/user.log"
leftovers "$user" "$u"

load=$(busy_percent)
echo "   /proc/stat at the end: ${load}% busy"
for pid in "${busy[@]}"; do kill "$pid"; done
for pid in "${busy[@]}"; do wait "$pid" 2>/dev/null || true; done
busy=()
echo "demo-test: make demo passed as root and as $user on a busy machine, and left nothing behind"

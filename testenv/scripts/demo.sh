#!/usr/bin/env bash
# wnm demo (make demo), for root and for any user, with or without network once the Go modules
# are cached, on an idle or a saturated machine. It
#   1. builds wnm and the fake antnode with your Go set-up (module and build caches stay yours;
#      it tries offline first, GOPROXY=off, and downloads only modules that are missing);
#   2. initialises wnm in a scratch HOME in user mode with the setsid process manager;
#   3. runs cycles as the timer would, faster: the fleet grows to node_cap, a new antnode
#      "release" rolls through it, and a lower node_cap shrinks it.
# wnm adds nodes only while the host has room, so that the scenario does not hinge on how busy
# this machine is, the cycles run in a private mount namespace (a user namespace too for a
# non-root user) where /proc/stat and /proc/loadavg are the demo's own: an idle CPU whose counters
# advance steadily and a load of 0.10. Memory and disk are the real ones. Where no namespace can
# be made, the demo says so and reads the real host. If the fleet does not settle, the demo prints
# what `wnm plan` says blocks it and exits 1; it exits 0 only when the whole scenario completed.
# Only loopback is used; every node process is stopped and the scratch directory removed on exit
# (WNM_DEMO_KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# scenario SCRATCH: steps 2 and 3, run inside the namespace (or not, see above).
scenario() {
	local scratch=$1
	# Every wnm call is bounded, so that a demo that goes wrong ends instead of hanging.
	wnm() { timeout -k 5 300 "$scratch/bin/wnm" "$@"; }
	"$scratch/bin/fakeantnode" release --version 0.4.17 --out "$HOME/.local/bin/antnode"
	"$HOME/.local/bin/antnode" --version

	# Pick port ranges that are free here (default 55xxx/13xxx/30xxx).
	free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
	local ps=55 ms=13 rs=30
	while ! free $((ms * 1000 + 1)); do ms=$((ms + 1)); done

	local cap=4
	say "wnm init (setsid+user, node_cap $cap, short delays for the demo)"
	wnm init --rewards_address 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed \
		--process_manager setsid+user --node_cap "$cap" \
		--port_start "$ps" --metrics_port_start "$ms" --rpc_port_start "$rs" \
		--delay_start 2 --delay_upgrade 2 --delay_remove 2 \
		--max_concurrent_starts 2 --max_concurrent_upgrades 2 --max_concurrent_operations 2 \
		--cpu_less_than 98 --cpu_remove 100 --mem_less_than 95 --mem_remove 100 --hd_less_than 98 --hd_remove 100 \
		--desired_load_average 1000 --max_load_average_allowed 1000 --survey_timeout 1000

	running() { wnm status --json | grep -c '"status": "RUNNING"' || true; }
	# cycles WANT_RUNNING VERSION: run until that many nodes run that version (at most 30 cycles);
	# otherwise print what blocks the fleet, from wnm plan, and fail.
	cycles() {
		local i
		for i in $(seq 1 30); do
			wnm run --loglevel WARNING
			wnm status | tail -n1
			if [ "$(running)" = "$1" ] && [ "$(wnm status --json | grep -c "\"version\": \"$2\"")" = "$1" ]; then return 0; fi
			sleep 1
		done
		echo "the fleet did not reach $1 running nodes of antnode $2 in 30 cycles; wnm plan says:" >&2
		wnm plan >&2 || true
		return 1
	}

	say "cycles until $cap nodes run"
	cycles "$cap" 0.4.17
	wnm status

	say "a new antnode is released: it rolls through the fleet"
	"$scratch/bin/fakeantnode" release --version 0.4.18 --out "$HOME/.local/bin/antnode"
	cycles "$cap" 0.4.18
	wnm status

	say "node_cap lowered to 2: the youngest nodes are removed"
	wnm run --node_cap 2 --loglevel WARNING
	cycles 2 0.4.18
	wnm status
	ls "$HOME/.local/share/autonomi/node"

	say "what the next cycle would do"
	wnm plan
}

if [ "${1:-}" = --scenario ]; then
	scenario "$2"
	exit
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/wnm-demo.XXXXXX")
feeder=
cleanup() {
	for pidfile in "$scratch"/home/.local/share/autonomi/node/antnode*/node.pid; do
		[ -f "$pidfile" ] && kill "$(head -n1 "$pidfile")" 2>/dev/null || true
	done
	[ -n "$feeder" ] && kill "$feeder" 2>/dev/null || true
	if [ "${WNM_DEMO_KEEP:-}" = 1 ]; then
		echo "kept $scratch"
	else
		chmod -R u+w "$scratch" 2>/dev/null || true
		rm -rf "$scratch"
	fi
}
trap cleanup EXIT
mkdir -p "$scratch/bin" "$scratch/home/.local/bin"

say "building wnm and the fake antnode"
build() {
	CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "$(packaging/version.sh --ldflags)" -o "$scratch/bin/wnm" ./cmd/wnm &&
		CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$scratch/bin/fakeantnode" ./testenv/cmd/fakeantnode
}
if ! GOPROXY=off build 2>"$scratch/build.log"; then
	if grep -q 'GOPROXY=off' "$scratch/build.log"; then
		echo "some Go modules are not in your module cache: downloading them (the only step that needs the network)"
		build
	else
		cat "$scratch/build.log" >&2
		exit 1
	fi
fi
"$scratch/bin/wnm" version | head -n1

# The demo's host: an idle CPU whose counters advance by 1 s of idle time per read, the real
# boot time, and a steady load average. A FIFO hands each reader a fresh /proc/stat.
mkfifo "$scratch/stat"
btime=$(awk '$1 == "btime" { print $2 }' /proc/stat)
echo "0.10 0.10 0.10 1/100 1" >"$scratch/loadavg"
(
	trap '' PIPE # a reader that stops after the first line must not end the feeder
	idle=100000
	while :; do
		idle=$((idle + 100))
		printf 'cpu  1000 0 1000 %d 0 0 0 0 0 0\nbtime %s\n' "$idle" "$btime" >"$scratch/stat" 2>/dev/null || true
	done
) &
feeder=$!
binds='mount --bind "$1" /proc/stat && mount --bind "$2" /proc/loadavg'
if [ "$(id -u)" = 0 ]; then
	ns=(unshare --mount --propagation private -- bash -c "$binds"' && exec "${@:3}"' _ "$scratch/stat" "$scratch/loadavg")
else
	# Root in a user namespace may mount; the second namespace maps back to your own uid, so
	# that wnm runs as you (user mode, files owned by you).
	ns=(unshare --user --map-root-user --mount --propagation private -- bash -c "$binds"' && exec unshare --user --map-user="$3" --map-group="$4" -- "${@:5}"' \
		_ "$scratch/stat" "$scratch/loadavg" "$(id -u)" "$(id -g)")
fi
export HOME="$scratch/home"
unset WNM_DBPATH DBPATH WNM_PROCESS_MANAGER PROCESS_MANAGER NODE_CAP WNM_NODE_CAP XDG_RUNTIME_DIR
if "${ns[@]}" true 2>"$scratch/ns.log"; then
	echo "host figures: a private mount namespace where /proc/stat shows an idle CPU and /proc/loadavg 0.10;"
	echo "memory and disk are this machine's"
	"${ns[@]}" bash "$0" --scenario "$scratch"
else
	echo "warning: no private namespace here ($(head -n1 "$scratch/ns.log")): the demo reads this machine's own CPU and load," >&2
	echo "and a busy machine may hold the fleet back (wnm plan will say so)" >&2
	kill "$feeder" 2>/dev/null || true
	feeder=
	bash "$0" --scenario "$scratch"
fi
echo
echo "demo finished; cleaning up"

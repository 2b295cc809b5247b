#!/usr/bin/env bash
# wnm demo: builds wnm and the fake antnode, initialises wnm in a scratch HOME (user mode, setsid
# process manager), then runs cycles as the timer would, faster: the fleet grows to node_cap, a new
# antnode "release" rolls through it, and a lower node_cap shrinks it. Nothing leaves the scratch
# directory, no network beyond loopback is used, and every node process is stopped on exit.
# Set WNM_DEMO_KEEP=1 to keep the scratch directory.
set -euo pipefail
cd "$(dirname "$0")/../.."

scratch=$(mktemp -d "${TMPDIR:-/tmp}/wnm-demo.XXXXXX")
export HOME="$scratch/home"
mkdir -p "$HOME/.local/bin" "$scratch/bin"
unset WNM_DBPATH DBPATH WNM_PROCESS_MANAGER PROCESS_MANAGER NODE_CAP WNM_NODE_CAP

cleanup() {
	for pidfile in "$HOME"/.local/share/autonomi/node/antnode*/node.pid; do
		[ -f "$pidfile" ] && kill "$(head -n1 "$pidfile")" 2>/dev/null || true
	done
	if [ "${WNM_DEMO_KEEP:-}" = 1 ]; then echo "kept $scratch"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "building wnm and the fake antnode"
CGO_ENABLED=0 go build -o "$scratch/bin/wnm" ./cmd/wnm
CGO_ENABLED=0 go build -o "$scratch/bin/fakeantnode" ./testenv/cmd/fakeantnode
wnm="$scratch/bin/wnm"
"$scratch/bin/fakeantnode" release --version 0.4.17 --out "$HOME/.local/bin/antnode"
"$HOME/.local/bin/antnode" --version

# Pick port ranges that are free here (default 55xxx/13xxx/30xxx).
free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ps=55; ms=13; rs=30
while ! free $((ms * 1000 + 1)); do ms=$((ms + 1)); done

cap=4
say "wnm init (setsid+user, node_cap $cap, short delays for the demo)"
"$wnm" init --rewards_address 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed \
	--process_manager setsid+user --node_cap "$cap" \
	--port_start "$ps" --metrics_port_start "$ms" --rpc_port_start "$rs" \
	--delay_start 2 --delay_upgrade 2 --delay_remove 2 \
	--max_concurrent_starts 2 --max_concurrent_upgrades 2 --max_concurrent_operations 2 \
	--cpu_less_than 98 --cpu_remove 100 --mem_less_than 95 --mem_remove 100 --hd_less_than 98 --hd_remove 100 \
	--desired_load_average 1000 --max_load_average_allowed 1000 --survey_timeout 1000

running() { "$wnm" status --json | grep -c '"status": "RUNNING"' || true; }
cycles() { # cycles WANT_RUNNING VERSION: run until that many nodes run that version (at most 30 cycles)
	for i in $(seq 1 30); do
		"$wnm" run --loglevel WARNING
		"$wnm" status | tail -n1
		if [ "$(running)" = "$1" ] && [ "$("$wnm" status --json | grep -c "\"version\": \"$2\"")" = "$1" ]; then return 0; fi
		sleep 1
	done
	echo "the fleet did not settle" >&2
	return 1
}

say "cycles until $cap nodes run"
cycles "$cap" 0.4.17
"$wnm" status

say "a new antnode is released: it rolls through the fleet"
"$scratch/bin/fakeantnode" release --version 0.4.18 --out "$HOME/.local/bin/antnode"
cycles "$cap" 0.4.18
"$wnm" status

say "node_cap lowered to 2: the youngest nodes are removed"
"$wnm" run --node_cap 2 --loglevel WARNING
cycles 2 0.4.18
"$wnm" status
ls "$HOME/.local/share/autonomi/node"

say "what the next cycle would do"
"$wnm" plan

echo "demo finished; cleaning up"

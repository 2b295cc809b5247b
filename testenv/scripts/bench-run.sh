#!/usr/bin/env bash
# Measures an idle `wnm run` on a real fleet: N fake antnode processes started by wnm itself
# (setsid+user, scratch HOME), then M idle cycles of the real binary under /usr/bin/time -v.
# Prints wall time, peak RSS and bytes written (wchar and write_bytes from /proc/<pid>/io) per cycle.
# Usage: testenv/scripts/bench-run.sh [NODES=50] [CYCLES=10]
set -euo pipefail
cd "$(dirname "$0")/../.."
nodes=${1:-50}
cycles=${2:-10}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/wnm-bench.XXXXXX")
export HOME="$scratch/home"
mkdir -p "$HOME/.local/bin" "$scratch/bin"
cleanup() {
	for pidfile in "$HOME"/.local/share/autonomi/node/antnode*/node.pid; do
		[ -f "$pidfile" ] && kill "$(head -n1 "$pidfile")" 2>/dev/null || true
	done
	rm -rf "$scratch"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$scratch/bin/wnm" ./cmd/wnm
CGO_ENABLED=0 go build -o "$scratch/bin/fakeantnode" ./testenv/cmd/fakeantnode
wnm="$scratch/bin/wnm"
"$scratch/bin/fakeantnode" release --version 0.4.17 --out "$HOME/.local/bin/antnode"
"$wnm" init --rewards_address 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed --process_manager setsid+user \
	--node_cap "$nodes" --port_start 40 --metrics_port_start 41 --rpc_port_start 42 --delay_start 1 \
	--max_concurrent_starts "$nodes" --max_concurrent_operations "$nodes" \
	--cpu_less_than 100 --cpu_remove 100 --mem_less_than 100 --mem_remove 100 --hd_less_than 100 --hd_remove 100 \
	--desired_load_average 100000 --max_load_average_allowed 100000 >/dev/null 2>&1
for i in $(seq 1 20); do
	"$wnm" run --loglevel ERROR
	sleep 1
	if [ "$("$wnm" status --json | grep -c '"status": "RUNNING"')" = "$nodes" ]; then break; fi
done
echo "fleet: $("$wnm" status | tail -n1)"
printf '%-6s %10s %10s %12s %14s %10s\n' cycle wall_ms rss_kb wchar_bytes disk_write_bytes survey_s
for i in $(seq 1 "$cycles"); do
	out=$(/usr/bin/time -v "$wnm" run --loglevel INFO 2>&1 >/dev/null)
	wall=$(echo "$out" | awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); printf "%d", (a[n-1]*60+a[n])*1000}')
	rss=$(echo "$out" | awk -F': ' '/Maximum resident set size/ {print $2}')
	line=$(echo "$out" | grep 'msg=cycle')
	field() { echo "$line" | grep -o " $1=[^ ]*" | cut -d= -f2; }
	printf '%-6s %10s %10s %12s %14s %10s\n' "$i" "$wall" "$rss" "$(field wchar)" "$(field write_bytes)" "$(field survey_seconds)"
done
echo "nodes after: $("$wnm" status | tail -n1)"

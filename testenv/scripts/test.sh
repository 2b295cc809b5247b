#!/usr/bin/env bash
# Runs every check and test of wnm (make test), installing what the tests need first (as root,
# from Debian's archive): ufw for the firewall tests (run in private namespaces only, never enabled
# on the host) and systemd-container for the systemd integration tests.
#
# What runs: gofmt and go vet, then a queue of jobs, WNM_TEST_JOBS (default 2) at a time:
#   - the four cross builds (CGO_ENABLED=0, linux and darwin, amd64 and arm64);
#   - pass "race": every package with -race -short (the race detector multiplies CPU time, so the
#     heaviest load tests skip themselves under -short). The tests that boot a systemd container
#     or enter namespaces skip too (WNM_INTEGRATION is not passed to this pass): what they test
#     runs as separate, uninstrumented binaries, and the full pass runs them;
#   - pass "race+": the integration tests that exercise concurrency, which -short skips, again
#     under the race detector (the survey pool against a thousand endpoints, and the cycle lock
#     between a timer cycle and forced actions); each named test must run and pass;
#   - pass "full": every package without -race and without -short.
# The slowest jobs start first, so that the short ones fill the gaps, and while one job waits on
# processes, timeouts or a booting container, the other uses the CPU.
#
# Progress: one line per job as it ends, with its time; a line every minute naming what is still
# running, so that nothing is silent for long; at the end an honest count per pass (packages
# passed, failed and without tests) and the slowest jobs. Logs and every temporary file (TMPDIR,
# the Go tests' temp dirs, fake antnode copies) live in one directory, removed at the end;
# WNM_TEST_KEEP=1 keeps it, and a failure keeps it and prints where the logs are.
# WNM_TEST_PACKAGES narrows the package list (go list patterns).
# The Debian package test and the release reproducibility check are separate (.ci/run runs all
# three): testenv/scripts/deb-test.sh and testenv/scripts/dist-check.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v ufw >/dev/null 2>&1 || [ -x /usr/sbin/ufw ] || need+=(ufw)
command -v systemd-nspawn >/dev/null 2>&1 || need+=(systemd-container)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "== installing ${need[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	else
		echo "warning: ${need[*]} missing and not root: the tests that need them will be skipped" >&2
	fi
fi
# Real-system tests fail rather than skip when their tools are missing, if we could install them
# (in the full pass; see below).
if [ "$(id -u)" = 0 ]; then export WNM_INTEGRATION="${WNM_INTEGRATION:-1}"; fi

slots=${WNM_TEST_JOBS:-2}
case $slots in '' | *[!0-9]* | 0)
	echo "WNM_TEST_JOBS=$slots: want a number of jobs above 0" >&2
	exit 2
	;;
esac

# Short paths: tests build unix socket paths under TMPDIR, which must stay within 108 bytes.
work=$(mktemp -d "${TMPDIR:-/tmp}/wnmt.XXXXXX")
mkdir -p "$work/t" "$work/logs"
# Like /tmp: tests run nodes as other accounts, which must reach their directories.
chmod 755 "$work"
chmod 1777 "$work/t"
keep=${WNM_TEST_KEEP:-}
declare -A running=() # pid -> job index
sleeper=
cleanup() {
	local pid
	# Interrupted: stop the jobs still running. Each runs in its own session (setsid), so that its
	# whole process group, go and the test binary alike, gets the signal.
	for pid in "${!running[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
	if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null || true; fi
	for pid in "${!running[@]}" $sleeper; do wait "$pid" 2>/dev/null || true; done
	if [ "$keep" = 1 ]; then
		echo "logs and temporary files kept in $work"
	else
		chmod -R u+w "$work" 2>/dev/null || true
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export TMPDIR="$work/t" GOTMPDIR="$work/t"
begin=$(date +%s)
elapsed() { echo "$(($(date +%s) - begin))s"; }

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then echo "not gofmt-ed:"; echo "$unformatted"; exit 1; fi

echo "== go vet ($(elapsed))"
go vet ./...

# The packages, and which of them have tests (the others are counted, not run).
patterns=${WNM_TEST_PACKAGES:-./...}
mapfile -t pkgs < <(go list $patterns)
declare -A hastests=()
while read -r p; do [ -n "$p" ] && hastests[$p]=1; done < <(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' $patterns)
module=$(go list -m)
short() {
	local s=${1#"$module"}
	s=${s#/}
	echo "${s:-.}"
}

# race+: the concurrency integration tests that -short skips, by package and exact name.
# TestSurveyTenPercentHung: the survey pool against 1,000 endpoints, 100 of them hung.
# TestForcedActionWaitsForCycle, TestKilledForcedAddIsReconciled: the cycle lock between a timer
# cycle and forced actions, with the wnm binary under test built with -race too.
declare -A raceplus=(
	[$module/worker/survey]='TestSurveyTenPercentHung'
	[$module/cmd/wnm]='TestForcedActionWaitsForCycle TestKilledForcedAddIsReconciled'
)

# The seconds each job took in a measured run on a quiet two-core machine, two jobs at a time
# (unlisted jobs: a few seconds). Only the order depends on them: the slowest start first.
declare -A expect=(
	["race cmd/wnm"]=300 ["full cmd/wnm"]=150 ["race worker"]=150 ["full worker"]=150
	["race units/install"]=150 ["full units/install"]=100 ["race testenv/nspawn"]=120
	["full testenv/nspawn"]=100 ["race+ cmd/wnm"]=60 ["race+ worker/survey"]=40
	["full testenv/fakeantnode"]=30 ["race testenv/fakeantnode"]=30 ["race gen"]=30 ["full gen"]=20
	["race worker/store"]=30 ["full worker/store"]=20 ["race worker/firewall"]=20
	["full worker/firewall"]=15 ["race units/setsid"]=25 ["full units/setsid"]=20
	["build linux/amd64"]=15 ["build linux/arm64"]=15 ["build darwin/amd64"]=15 ["build darwin/arm64"]=15
)

# The queue: "kind target" per job, then sorted by expected time, slowest first.
queue=()
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64; do queue+=("build $target"); done
for pass in race full; do
	for p in "${pkgs[@]}"; do
		if [ -n "${hastests[$p]:-}" ]; then queue+=("$pass $p"); fi
	done
done
for p in "${pkgs[@]}"; do
	if [ -n "${raceplus[$p]:-}" ]; then queue+=("race+ $p"); fi
done
mapfile -t queue < <(for j in "${queue[@]}"; do
	k=${j%% *}
	printf '%d\t%s\n' "${expect["$k $(short "${j#* }")"]:-5}" "$j"
done | sort -t$'\t' -k1,1nr -s | cut -f2)

# runjob INDEX: the job's command, output to its log.
runjob() {
	local kind=${queue[$1]%% *} target=${queue[$1]#* } names
	case $kind in
	build) CGO_ENABLED=0 GOOS=${target%/*} GOARCH=${target#*/} exec setsid go build ./... ;;
	race) exec env -u WNM_INTEGRATION setsid go test -race -short -shuffle=on -count=1 -timeout 30m "$target" ;;
	full) exec setsid go test -shuffle=on -count=1 -timeout 30m "$target" ;;
	race+)
		names=${raceplus[$target]}
		exec setsid go test -race -v -count=1 -timeout 30m -run "^(${names// /|})\$" "$target"
		;;
	esac
}

# verdict INDEX RC: ok, FAIL or "--" (no tests), from the exit code and the log. A race+ job
# passes only if every named test ran and passed: a renamed test must not silently drop out.
verdict() {
	local i=$1 rc=$2 log=${logs[$1]} kind=${queue[$1]%% *} target=${queue[$1]#* } n
	if [ "$rc" != 0 ]; then
		echo FAIL
		return
	fi
	if [ "$kind" = race+ ]; then
		for n in ${raceplus[$target]}; do
			if ! grep -q "^--- PASS: $n " "$log"; then
				echo "race+: $n did not run and pass" >>"$log"
				echo FAIL
				return
			fi
		done
	fi
	if [ "$kind" != build ] && grep -q '\[no test files\]' "$log"; then
		echo "--"
		return
	fi
	echo ok
}

declare -A passed=() failed=() notests=()
took=()
for k in build race race+ full; do passed[$k]=0 failed[$k]=0 notests[$k]=0; done
logs=()
for i in "${!queue[@]}"; do
	j=${queue[$i]}
	mkdir -p "$work/logs/${j%% *}"
	logs[i]="$work/logs/${j%% *}/$(short "${j#* }" | tr / _).log"
done

total=${#queue[@]}
nraceplus=0
for j in "${queue[@]}"; do if [ "${j%% *}" = race+ ]; then nraceplus=$((nraceplus + 1)); fi; done
echo "== $total jobs, $slots at a time: 4 cross builds, 3 test passes over ${#hastests[@]} packages with tests (of ${#pkgs[@]}) ($(elapsed))"
started=()
declare -A status=()
finished=0
lastbeat=$(date +%s)
# reap: report every job that has ended. Bash collects ended children on its own, so an ended job
# no longer answers kill -0; its exit status comes from wait PID, or from the wait -n that saw it.
reap() {
	local pid i rc kind name secs v
	for pid in "${!running[@]}"; do
		if [ -z "${status[$pid]:-}" ] && kill -0 "$pid" 2>/dev/null; then continue; fi
		rc=${status[$pid]:-}
		if [ -z "$rc" ]; then
			rc=0
			wait "$pid" || rc=$?
		fi
		i=${running[$pid]}
		unset "running[$pid]" "status[$pid]"
		finished=$((finished + 1))
		kind=${queue[i]%% *}
		name=$(short "${queue[i]#* }")
		secs=$(($(date +%s) - started[i]))
		took[$i]=$secs
		v=$(verdict "$i" "$rc")
		case $v in
		ok) passed[$kind]=$((passed[$kind] + 1)) ;;
		FAIL) failed[$kind]=$((failed[$kind] + 1)) ;;
		*) notests[$kind]=$((notests[$kind] + 1)) ;;
		esac
		printf '   [%2d/%d] %-4s %-5s %-26s %4ss  (%s)\n' "$finished" "$total" "$v" "$kind" "$name" "$secs" "$(elapsed)"
		if [ "$v" = FAIL ]; then tail -n 40 "${logs[i]}" | sed 's/^/        /'; fi
	done
}
while [ "$finished" -lt "$total" ]; do
	# Start the next jobs in queue order, but never two of one package at once: the passes of a
	# package pick the same port ranges for their fake nodes.
	for ((i = 0; i < total && ${#running[@]} < slots; i++)); do
		if [ -n "${started[$i]:-}" ]; then continue; fi
		busy=
		for pid in "${!running[@]}"; do
			if [ "${queue[running[$pid]]#* }" = "${queue[i]#* }" ]; then busy=1; fi
		done
		if [ -n "$busy" ]; then continue; fi
		runjob "$i" >"${logs[i]}" 2>&1 &
		running[$!]=$i
		started[$i]=$(date +%s)
	done
	before=$finished
	reap
	if [ "$finished" != "$before" ]; then continue; fi
	# Wait for a job to end, or for the tick: wait -n misses a job that ended before it was called
	# (reap catches that one at the latest on the next tick).
	if [ -z "$sleeper" ] || ! kill -0 "$sleeper" 2>/dev/null; then
		sleep 5 &
		sleeper=$!
	fi
	fin=
	rc=0
	wait -n -p fin "${!running[@]}" "$sleeper" 2>/dev/null || rc=$?
	if [ -n "$fin" ] && [ -n "${running[$fin]:-}" ]; then status[$fin]=$rc; fi
	reap
	now=$(date +%s)
	if [ $((now - lastbeat)) -ge 60 ] && [ "${#running[@]}" -gt 0 ]; then
		lastbeat=$now
		line=
		for pid in "${!running[@]}"; do
			i=${running[$pid]}
			line+="${line:+, }${queue[i]%% *} $(short "${queue[i]#* }") $((now - started[i]))s"
		done
		echo "   ... $(elapsed): running $line"
	fi
done
kill "$sleeper" 2>/dev/null || true
wait "$sleeper" 2>/dev/null || true
sleeper=

echo "== summary ($(elapsed) in all)"
without=$((${#pkgs[@]} - ${#hastests[@]}))
echo "   cross builds: ${passed[build]} ok, ${failed[build]} failed (of 4)"
for kind in race full; do
	echo "   $kind: ${passed[$kind]} packages passed, ${failed[$kind]} failed, $((notests[$kind] + without)) without tests (of ${#pkgs[@]})"
done
echo "   race+ (concurrency tests without -short): ${passed[race+]} packages passed, ${failed[race+]} failed (of $nraceplus)"
printf '   slowest:'
for i in "${!took[@]}"; do printf '%s\t%s\n' "${took[$i]}" "${queue[i]%% *} $(short "${queue[i]#* }")"; done |
	sort -nr | head -5 | while IFS=$'\t' read -r s j; do printf ' %s %ss;' "$j" "$s"; done
echo
total_failed=0
for kind in build race race+ full; do total_failed=$((total_failed + failed[$kind])); done
if [ "$total_failed" != 0 ]; then
	keep=1
	echo "$total_failed jobs failed; their logs are in $work/logs"
	exit 1
fi

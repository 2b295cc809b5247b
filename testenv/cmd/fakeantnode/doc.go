// Command fakeantnode stands in for the legacy Autonomi node binary, antnode, in wnm's tests.
//
// It is a real process with real ports: it accepts antnode's command line,
// prints antnode's version text and start lines, keeps a secret key and a stable peer id in its
// root dir, writes antnode.pid, holds its UDP node port, and serves /metrics,
// /metrics_extended and /metadata on 127.0.0.1 in the OpenMetrics shape of a real antnode.
// It exits 0 on SIGTERM or SIGINT and removes antnode.pid. It never talks to any network but
// loopback and must not be shipped or imported by wnm itself. It runs on Unix (Linux, macOS)
// only, like wnm.
//
// # Usage
//
//	fakeantnode [antnode flags] [evm-arbitrum-one | evm-arbitrum-sepolia-test | evm-custom ...]
//	fakeantnode release --version V --out PATH
//	fakeantnode fleet --metrics-port-start N --count N [--version V] [--hang-fraction F] [--host H]
//
// Unknown flags exit 2 with a message naming them. Without --rewards-address (and without
// --version) it exits 1, as antnode does. Only --version skips that check: --crate-version,
// --package-version and --protocol-version need a rewards address, as in antnode.
//
// # Version
//
// The version it reports is resolved once at start, from the first of:
//
//  1. a trailer at the very end of its own executable, "\n#fakeantnode-version=V\n", which
//     "fakeantnode release" writes, so copying the binary carries the version along;
//  2. a file "<executable>.version" beside the binary;
//  3. the build-time string main.version (go build -ldflags "-X main.version=V"), default 0.4.17.
//
// FAKEANTNODE_VERSION, when set, is reported instead of the resolved version.
//
// # Misbehaviour knobs
//
// Environment variables make the node misbehave on purpose:
//
//	FAKEANTNODE_START_DELAY=2s        sleep before opening the metrics port
//	FAKEANTNODE_HANG_METRICS=1        accept metrics connections but never answer
//	FAKEANTNODE_GARBAGE_METRICS=1     answer every endpoint with unparseable text and status 200
//	FAKEANTNODE_HTTP_STATUS=503       answer every endpoint with that status
//	FAKEANTNODE_CRASH_AFTER=5s        write critical_failure.log in the log dir, then exit 1
//	FAKEANTNODE_CPU_BURN=1            spin one goroutine
//	FAKEANTNODE_SELF_UPGRADE_AFTER=3s with FAKEANTNODE_UPGRADE_FROM=/path/to/new/binary: after
//	                                  that time, atomically replace its own executable with a
//	                                  copy of that binary (only if the bytes differ, as antnode
//	                                  compares hashes), then exit 0 with --stop-on-upgrade, or
//	                                  re-exec itself with the same argv (same pid) without it
//	FAKEANTNODE_VERSION=x             report this version instead of the resolved one
//	FAKEANTNODE_METRICS_FILE=/path    answer /metrics and /metrics_extended with that file's
//	                                  bytes (read once at start; an unreadable file exits 2),
//	                                  such as a capture of a real antnode's 47 KB answer, for
//	                                  benchmarks; /metadata stays this node's own
//
// HANG wins over HTTP_STATUS, which wins over GARBAGE. A bad knob value exits 2.
//
// # Files
//
// The root dir (--root-dir, default ~/.local/share/autonomi/node/<peer-id>, or
// ~/Library/Application Support/autonomi/node/<peer-id> on macOS) holds secret-key (32 random
// bytes, mode 0600, created once) and antnode.pid (the decimal pid, no newline). Log lines go to
// antnode.log in the log dir: <root-dir>/logs for --log-output-dest data-dir (the default), the
// named directory for a path, or stdout for stdout. critical_failure.log ("[timestamp] reason")
// goes in the log dir, or in the root dir when logging to stdout; it is cleared at start. A
// crash (FAKEANTNODE_CRASH_AFTER, or a start-up failure such as a busy port) leaves antnode.pid
// behind, as a real crash does, so supervisors meet stale pid files in tests.
//
// # Fleet mode
//
// "fakeantnode fleet" serves /metrics and /metadata on count consecutive ports from one process,
// each port with its own peer id and values, for benchmarks. With --hang-fraction F, the ports
// whose index i satisfies floor((i+1)F) > floor(iF) hang (F=0.1 hangs every 10th port). It
// raises its RLIMIT_NOFILE soft limit to the hard limit, prints "ready" once every port listens,
// and exits 0 on SIGTERM or SIGINT.
package main

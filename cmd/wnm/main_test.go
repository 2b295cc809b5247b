package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/wnm-project/wnm/testenv/fakeantnode"
	"github.com/wnm-project/wnm/testenv/fakes"
	"github.com/wnm-project/wnm/testenv/golden"
	"github.com/wnm-project/wnm/testenv/poll"
	"github.com/wnm-project/wnm/testenv/ports"
	"github.com/wnm-project/wnm/testenv/upstreamdb"
	"github.com/wnm-project/wnm/units/setsid"
	"github.com/wnm-project/wnm/worker/lock"
	"github.com/wnm-project/wnm/worker/store"
)

func TestMain(m *testing.M) {
	setsid.LaunchIfAsked()
	testscript.Main(m, map[string]func(){
		"wnm":       func() { os.Exit(scriptMain(os.Args[1:])) },
		"systemctl": fakes.SystemctlMain,
		"launchctl": fakes.LaunchctlMain,
		"crontab":   fakes.CrontabMain,
		"loginctl":  fakes.LoginctlMain,
	})
}

// envScriptEUID is the effective uid that wnm sees in the scripts. Setup sets it to a non-root uid,
// so that a script run by root can never reach the sudo mode's host paths (/var/antctl, the system
// unit directory); a script that means to act as root says `env WNM_TEST_EUID=0` and works under a
// prefix.
const envScriptEUID = "WNM_TEST_EUID"

// scriptMain is Main with the effective uid taken from envScriptEUID.
func scriptMain(args []string) int {
	home, _ := os.UserHomeDir()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ(), home: home, goos: runtime.GOOS, euid: os.Geteuid(), now: time.Now}
	if v, ok := os.LookupEnv(envScriptEUID); ok {
		uid, err := strconv.Atoi(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s=%q: not a uid\n", envScriptEUID, v)
			return 2
		}
		e.euid = uid
	}
	return e.main(args)
}

// TestScripts runs the scenarios in testdata/script: what an operator types, and what wnm answers.
func TestScripts(t *testing.T) {
	fake := fakeantnode.Build(t)
	// The sudo mode's host paths must come out of the scripts as they went in.
	hostPaths := []string{"/var/antctl", "/var/log/antnode", "/etc/systemd/system/wnm.service", "/etc/cron.d/anm.disabled-by-wnm"}
	before := make(map[string]bool)
	for _, p := range hostPaths {
		_, err := os.Lstat(p)
		before[p] = err == nil
	}
	t.Cleanup(func() {
		for _, p := range hostPaths {
			if _, err := os.Lstat(p); (err == nil) != before[p] {
				t.Errorf("the scripts changed the host: %s existed %v before and %v after", p, before[p], err == nil)
			}
		}
	})
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       golden.Updating(),
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			home := filepath.Join(e.WorkDir, "home")
			e.Setenv("HOME", home)
			e.Setenv("DB", filepath.Join(home, ".local/share/autonomi/colony.db"))
			e.Setenv("ADDR", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
			// install and uninstall write under $WORK/root, never the host; the fake service
			// managers record their calls in calls.log and keep their state in fakestate.
			e.Setenv("WNM_ROOT", filepath.Join(e.WorkDir, "root"))
			e.Setenv(fakes.EnvLog, filepath.Join(e.WorkDir, "calls.log"))
			state := filepath.Join(e.WorkDir, "fakestate")
			e.Setenv(fakes.EnvState, state)
			e.Defer(func() { _ = fakes.KillAll(state) })
			e.Setenv(envScriptEUID, "1000")
			e.Setenv("USER", "alice")
			e.Setenv("LOGNAME", "alice")
			e.Setenv("UID", strconv.Itoa(os.Getuid())) // launchctl's gui/<uid> domain
			// A fleet: the fake antnode 0.4.17 at $ANTNODE, and port ranges of this script's own:
			// --antnode_path $ANTNODE --port_start $PORT --metrics_port_start $MPORT --rpc_port_start $RPORT.
			antnode := filepath.Join(e.WorkDir, "release", "antnode")
			e.Setenv("ANTNODE", antnode)
			if err := os.MkdirAll(filepath.Dir(antnode), 0o755); err != nil {
				return err
			}
			if b, err := exec.Command(fake, "release", "--version", "0.4.17", "--out", antnode).CombinedOutput(); err != nil {
				return fmt.Errorf("release the fake antnode: %w\n%s", err, b)
			}
			e.Setenv("FAKEANTNODE", fake)
			ranges, release, err := ports.Reserve(3, 20)
			if err != nil {
				return err
			}
			e.Defer(release)
			e.Setenv("PORT", strconv.Itoa(ranges[0]))
			e.Setenv("MPORT", strconv.Itoa(ranges[1]))
			e.Setenv("RPORT", strconv.Itoa(ranges[2]))
			nodes := filepath.Join(home, ".local/share/autonomi/node")
			e.Defer(func() { killNodes(nodes) })
			return os.MkdirAll(home, 0o755)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":   cmdExitcode,
			"holdlock":   cmdHoldlock,
			"upstreamdb": cmdUpstreamDB,
			"dbdump":     cmdDBDump,
			"rootify":    cmdRootify,
			"release":    cmdRelease(fake),
			"waitup":     cmdWaitUp,
			"noderows":   cmdNodeRows,
		},
	})
}

// cmdExitcode runs a program and checks its exit code: exitcode N prog args...
// Its stdout and stderr become the script's, as with exec.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// cmdHoldlock takes the cycle lock at a path, as a running cycle would, until the script ends.
func cmdHoldlock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: holdlock PATH")
	}
	path := ts.MkAbs(args[0])
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		ts.Fatalf("holdlock: %v", err)
	}
	l, err := lock.TryLock(path)
	if err != nil {
		ts.Fatalf("holdlock: %v", err)
	}
	ts.Defer(func() { l.Unlock() })
}

// killNodes kills every node process whose pid file is under dir.
func killNodes(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "node.pid"))
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// cmdRelease puts a fake antnode reporting VERSION at antnode_path: release VERSION.
func cmdRelease(fake string) func(ts *testscript.TestScript, neg bool, args []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: release VERSION")
		}
		out := ts.Getenv("ANTNODE")
		tmp := out + ".new"
		if b, err := exec.Command(fake, "release", "--version", args[0], "--out", tmp).CombinedOutput(); err != nil {
			ts.Fatalf("release: %v\n%s", err, b)
		}
		ts.Check(os.Rename(tmp, out))
	}
}

// cmdWaitUp waits until the nodes with the given ids answer on their metrics ports: waitup 1 2.
func cmdWaitUp(ts *testscript.TestScript, neg bool, args []string) {
	mport, _ := strconv.Atoi(ts.Getenv("MPORT"))
	for _, a := range args {
		id, err := strconv.Atoi(a)
		ts.Check(err)
		addr := fmt.Sprintf("127.0.0.1:%d", mport*1000+id)
		up := false
		if !poll.Wait(15*time.Second, poll.Interval, func() bool {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			up = err == nil
			if up {
				c.Close()
			}
			return up != neg
		}) {
			ts.Fatalf("node %d: metrics port %s up=%v after 15s", id, addr, up)
		}
	}
}

// cmdNodeRows writes N node rows with fixed contents into $DB, as surveys of a fleet would have left
// them, for output that must not depend on random peer ids: noderows N.
func cmdNodeRows(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: noderows N")
	}
	count, err := strconv.Atoi(args[0])
	ts.Check(err)
	st, err := store.Open(context.Background(), ts.Getenv("DB"))
	ts.Check(err)
	defer st.Close()
	statuses := []store.Status{store.StatusRunning, store.StatusStopped, store.StatusRunning, store.StatusDisabled}
	port, _ := strconv.Atoi(ts.Getenv("PORT"))
	mport, _ := strconv.Atoi(ts.Getenv("MPORT"))
	storage := filepath.Join(ts.Getenv("HOME"), ".local/share/autonomi/node")
	ts.Check(st.Write(context.Background(), func(w *store.Writer) error {
		for id := 1; id <= count; id++ {
			name := fmt.Sprintf("%04d", id)
			root := filepath.Join(storage, "antnode"+name)
			n := store.Node{ID: id, MachineID: 1, ManagerType: "setsid+user", NodeName: name, Service: "antnode" + name + ".service",
				User: "alice", Binary: filepath.Join(root, "antnode"), Version: "0.4.17", RootDir: root,
				LogDir: filepath.Join(ts.Getenv("HOME"), ".local/share/autonomi/logs/antnode"+name),
				Port:   port*1000 + id, MetricsPort: mport*1000 + id, Network: "evm-arbitrum-one", Wallet: ts.Getenv("ADDR"),
				PeerID: fmt.Sprintf("12D3KooWFakePeer%04dxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", id), Status: statuses[(id-1)%len(statuses)],
				Timestamp: 1_900_000_000, Age: 1_899_000_000 + int64(id), Host: "127.0.0.1", Method: "setsid+user", Layout: "1",
				Records: int64(100 * id), Uptime: int64(3600 * id), ConnectedPeers: int64(10 * id), Puts: int64(90 * id),
				Mem: 10_450 + int64(id), CPU: 125, OpenConnections: int64(12 * id), TotalPeers: int64(300 + id), BadPeers: int64(id % 2),
				RelRecords: int64(80 * id), MaxRecords: 16384, Rewards: fmt.Sprint(1_000_000_000_000_000 * id), PaymentCount: int64(id),
				LiveTime: int64(3500 * id), NetworkSize: int64(2_000_000 + 1000*id), Shunned: int64(id % 3)}
			if n.Status != store.StatusRunning {
				n.Uptime, n.ConnectedPeers, n.OpenConnections = 0, 0, 0
			}
			if err := w.InsertNode(n); err != nil {
				return err
			}
		}
		return nil
	}))
}

// cmdUpstreamDB builds a wnm-python colony.db at an Alembic revision:
// upstreamdb PATH REVISION [unversioned] [migrated] [no-antctl-debug] [storage=DIR] [pm=MANAGER] [drop=TABLE.COLUMN]...
func cmdUpstreamDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: upstreamdb PATH REVISION [options]")
	}
	var o upstreamdb.Options
	for _, a := range args[2:] {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "unversioned":
			o.Unversioned = true
		case "migrated":
			o.Migrated = true
		case "no-antctl-debug":
			o.NoAntctlDebug = true
		case "storage":
			o.NodeStorage = ts.MkAbs(v)
		case "pm":
			o.ProcessManager = v
		case "drop":
			o.Drop = append(o.Drop, v)
		default:
			ts.Fatalf("upstreamdb: unknown option %q", a)
		}
	}
	path := ts.MkAbs(args[0])
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		ts.Fatalf("upstreamdb: %v", err)
	}
	ts.Check(upstreamdb.Build(path, args[1], o))
}

// cmdDBDump prints every stored value of the named tables with its storage class: dbdump PATH TABLE...
func cmdDBDump(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: dbdump PATH TABLE...")
	}
	out, err := upstreamdb.Dump(ts.MkAbs(args[0]), args[1:]...)
	ts.Check(err)
	fmt.Fprint(ts.Stdout(), out)
}

// cmdRootify replaces @ROOT@ with DIR's absolute path in every regular file under DIR, so that a
// fixture tree written by a script names its own paths: rootify DIR.
func cmdRootify(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: rootify DIR")
	}
	dir := ts.MkAbs(args[0])
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), "@ROOT@", dir)), fi.Mode().Perm()); err != nil {
			return err
		}
		return os.Chtimes(p, fi.ModTime(), fi.ModTime())
	})
	ts.Check(err)
}

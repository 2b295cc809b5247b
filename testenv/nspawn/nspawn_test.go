package nspawn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBindArg(t *testing.T) {
	tests := []struct {
		name    string
		in      Bind
		want    string
		wantErr bool
	}{
		{"same path", Bind{Src: "/opt/wnm"}, "--bind=/opt/wnm:/opt/wnm", false},
		{"read-only elsewhere", Bind{Src: "/tmp/x/wnm", Dst: "/usr/local/bin/wnm", ReadOnly: true}, "--bind-ro=/tmp/x/wnm:/usr/local/bin/wnm", false},
		{"colon and backslash escaped", Bind{Src: `/tmp/a:b\c`, Dst: "/mnt/d"}, `--bind=/tmp/a\:b\\c:/mnt/d`, false},
		{"cleaned", Bind{Src: "/tmp//x/../y/"}, "--bind=/tmp/y:/tmp/y", false},
		{"relative source", Bind{Src: "bin/wnm"}, "", true},
		{"relative destination", Bind{Src: "/bin/wnm", Dst: "wnm"}, "", true},
		{"root", Bind{Src: "/"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bindArg(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("bindArg(%+v) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("bindArg(%+v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestNspawnArgsIsolate checks the flags that keep the container off the host: a tmpfs over a
// read-only host tree, a private network, no registration with the host's systemd, no
// first-boot prompt, and masked firewall services.
func TestNspawnArgsIsolate(t *testing.T) {
	args, err := nspawnArgs(Options{
		Bind:     []Bind{{Src: "/tmp/wnm", Dst: "/opt/wnm/wnm", ReadOnly: true}},
		Args:     []string{"--setenv=A=1"},
		InitArgs: []string{"systemd.log_level=debug"},
	})
	if err != nil {
		t.Fatal(err)
	}
	boot := slices.Index(args, "-b")
	if boot < 0 {
		t.Fatalf("nspawnArgs() = %q, want -b", args)
	}
	flags, init := args[:boot], args[boot+1:]
	for _, want := range []string{"--directory=/", "--volatile=yes", "--private-network", "--register=no", "--keep-unit", "--bind-ro=/tmp/wnm:/opt/wnm/wnm", "--setenv=A=1"} {
		if !slices.Contains(flags, want) {
			t.Errorf("nspawn flags %q lack %q", flags, want)
		}
	}
	for _, want := range []string{"systemd.firstboot=off", "systemd.mask=ufw.service", "systemd.mask=nftables.service", "systemd.log_level=debug"} {
		if !slices.Contains(init, want) {
			t.Errorf("init args %q lack %q", init, want)
		}
	}
	if _, err := nspawnArgs(Options{Bind: []Bind{{Src: "relative"}}}); err == nil {
		t.Error("nspawnArgs with a relative bind succeeded, want an error")
	}
}

func TestCheckExtraArg(t *testing.T) {
	tests := []struct {
		arg     string
		wantErr bool
	}{
		{"--setenv=A=1", false},
		{"--capability=CAP_NET_ADMIN", false},
		{"--bind-ro=/a:/b", false},
		{"--private-network=no", true},
		{"--network-veth", true},
		{"--network-interface=eth0", true},
		{"--port=8080", true},
		{"-p8080", true},
		{"--directory=/srv", true},
		{"-D/srv", true},
		{"--register=yes", true},
		{"--machine=other", true},
		{"--volatile=no", true},
		{"--private-users=pick", true},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			if err := checkExtraArg(tt.arg); (err != nil) != tt.wantErr {
				t.Errorf("checkExtraArg(%q) = %v, want error %v", tt.arg, err, tt.wantErr)
			}
		})
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantComm string
		wantPPID int
		wantErr  bool
	}{
		{"systemd", "26793 (systemd) S 26772 26793 26793 0 -1 4194560 1208", "systemd", 26772, false},
		{"parens and spaces in the name", "12 (a) b (c) R 7 12 12 0", "a) b (c", 7, false},
		{"no name", "12 systemd S 7", "", 0, true},
		{"truncated", "12 (systemd) S", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comm, ppid, err := parseStat(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseStat(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if comm != tt.wantComm || ppid != tt.wantPPID {
				t.Errorf("parseStat(%q) = %q, %d, want %q, %d", tt.in, comm, ppid, tt.wantComm, tt.wantPPID)
			}
		})
	}
}

func TestAddAccount(t *testing.T) {
	base := accountFiles{
		Passwd:  "root:x:0:0::/root:/bin/bash\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n",
		Group:   "root:x:0:\nnogroup:x:65534:\n",
		Shadow:  "root:!*:19000::::::\n",
		GShadow: "root:!::",
	}
	tests := []struct {
		name    string
		db      accountFiles
		user    string
		want    User
		wantDB  accountFiles
		wantErr string
	}{
		{
			name: "first user",
			db:   base,
			user: "ant",
			want: User{Name: "ant", UID: 1000, GID: 1000, Home: "/home/ant"},
			wantDB: accountFiles{
				Passwd:  base.Passwd + "ant:x:1000:1000::/home/ant:/bin/sh\n",
				Group:   base.Group + "ant:x:1000:\n",
				Shadow:  base.Shadow + "ant:!*:19000::::::\n",
				GShadow: "root:!::\nant:!::\n",
			},
		},
		{
			name: "skips ids taken as uid or gid",
			db: accountFiles{
				Passwd: base.Passwd + "a:x:1000:1000::/home/a:/bin/sh\n",
				Group:  base.Group + "a:x:1000:\nb:x:1001:\n",
			},
			user: "c",
			want: User{Name: "c", UID: 1002, GID: 1002, Home: "/home/c"},
			wantDB: accountFiles{
				Passwd:  base.Passwd + "a:x:1000:1000::/home/a:/bin/sh\nc:x:1002:1002::/home/c:/bin/sh\n",
				Group:   base.Group + "a:x:1000:\nb:x:1001:\nc:x:1002:\n",
				Shadow:  "c:!*:19000::::::\n",
				GShadow: "c:!::\n",
			},
		},
		{name: "existing user", db: base, user: "root", wantErr: `user "root" exists`},
		{name: "existing group", db: accountFiles{Group: "ant:x:5:\n"}, user: "ant", wantErr: `group "ant" exists`},
		{name: "bad name", db: base, user: "Ant;rm", wantErr: `bad user name "Ant;rm"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, u, err := addAccount(tt.db, tt.user)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("addAccount(%q) error = %v, want one containing %q", tt.user, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("addAccount(%q): %v", tt.user, err)
			}
			if diff := cmp.Diff(tt.want, u); diff != "" {
				t.Errorf("addAccount(%q) user (-want +got):\n%s", tt.user, diff)
			}
			if diff := cmp.Diff(tt.wantDB, db); diff != "" {
				t.Errorf("addAccount(%q) files (-want +got):\n%s", tt.user, diff)
			}
		})
	}
}

func TestParsePasswdLine(t *testing.T) {
	u, err := parsePasswdLine("ant:x:1000:1001:Autonomi:/var/lib/ant:/usr/sbin/nologin")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(User{Name: "ant", UID: 1000, GID: 1001, Home: "/var/lib/ant"}, u); diff != "" {
		t.Errorf("parsePasswdLine (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "ant:x:1000", "ant:x:a:1:::", "ant:x:1:b:::"} {
		if _, err := parsePasswdLine(bad); err == nil {
			t.Errorf("parsePasswdLine(%q) succeeded, want an error", bad)
		}
	}
}

func TestUserEnv(t *testing.T) {
	got := User{Name: "ant", UID: 1000, GID: 1000, Home: "/home/ant"}.Env()
	want := []string{
		"HOME=/home/ant", "USER=ant", "LOGNAME=ant",
		"XDG_RUNTIME_DIR=/run/user/1000", "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("User.Env() (-want +got):\n%s", diff)
	}
}

func TestParseJournal(t *testing.T) {
	in := `{"MESSAGE":"Node started","_SYSTEMD_UNIT":"fake.service","_PID":"42"}

{"MESSAGE":[104,105,255],"_SYSTEMD_UNIT":"fake.service"}
`
	entries, err := parseJournal(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0]["_PID"] != "42" {
		t.Errorf("parseJournal = %v, want 2 entries, the first with _PID 42", entries)
	}
	if diff := cmp.Diff([]string{"Node started", "hi\xff"}, Messages(entries)); diff != "" {
		t.Errorf("Messages (-want +got):\n%s", diff)
	}
	if _, err := parseJournal("{not json\n"); err == nil {
		t.Error("parseJournal of a bad line succeeded, want an error")
	}
}

func TestParseHTTPResponse(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantCode int
		wantBody string
		wantErr  bool
	}{
		{"ok", "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nant_x 1\n", 200, "ant_x 1\n", false},
		{"error status", "HTTP/1.1 503 Service Unavailable\r\n\r\n", 503, "", false},
		{"no header end", "HTTP/1.0 200 OK\r\n", 0, "", true},
		{"not http", "SSH-2.0-x\r\n\r\n", 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, err := parseHTTPResponse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseHTTPResponse(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if code != tt.wantCode || body != tt.wantBody {
				t.Errorf("parseHTTPResponse(%q) = %d, %q, want %d, %q", tt.in, code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

// TestRefusesHost proves that the namespace check refuses the host: the test process's own pid
// (whose namespaces are the host's by definition) is never accepted as a container, and a
// Machine pointed at it runs nothing.
func TestRefusesHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("namespaces are linux-only")
	}
	if _, err := recordNamespaces(os.Getpid()); !errors.Is(err, errNotContainer) {
		t.Errorf("recordNamespaces(own pid) error = %v, want %v", err, errNotContainer)
	}
	if _, _, err := openNamespaces(os.Getpid()); !errors.Is(err, errNotContainer) {
		t.Errorf("openNamespaces(own pid) error = %v, want %v", err, errNotContainer)
	}
	own := nsSet{}
	for _, k := range nsKinds {
		id, err := ownID(k.name)
		if err != nil {
			t.Fatal(err)
		}
		own[k.name] = id
	}
	if _, err := own.open(os.Getpid()); !errors.Is(err, errNotContainer) {
		t.Errorf("nsSet.open(own pid) with our own namespaces recorded: error = %v, want %v", err, errNotContainer)
	}
	if _, err := (nsSet{}).open(os.Getpid()); !errors.Is(err, errNotContainer) {
		t.Errorf("nsSet.open with nothing recorded: error = %v, want %v", err, errNotContainer)
	}

	marker := filepath.Join(t.TempDir(), "ran-on-host")
	for _, m := range []*Machine{
		{Name: "forged-own", Leader: os.Getpid(), ns: own, t: t, users: map[string]User{}},
		{Name: "forged-empty", Leader: os.Getpid(), t: t, users: map[string]User{}},
	} {
		_, _, err := m.Run(context.Background(), "touch", marker)
		if !errors.Is(err, errNotContainer) {
			t.Errorf("%s: Run error = %v, want %v", m.Name, err, errNotContainer)
		}
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a command ran on the host: stat %s: %v", marker, err)
	}
}

// TestPoweroffKillsStuckContainer freezes the container's systemd, so that neither a poweroff
// nor SIGTERM to systemd-nspawn can stop it, and checks that Poweroff still ends the container
// and every process in it.
func TestPoweroffKillsStuckContainer(t *testing.T) {
	m := Boot(t, Options{})
	m.waits = stopWait{poweroff: 2 * time.Second, term: 2 * time.Second, kill: time.Minute}
	out := m.MustRun("sh", "-c", "sleep 600 >/dev/null 2>&1 & echo $!")
	if strings.TrimSpace(out) == "" {
		t.Fatal("no pid for the background sleep")
	}
	sleeper := hostPIDs(t, m, "sleep")
	if len(sleeper) == 0 {
		t.Fatal("the container's sleep is not visible from the host")
	}
	if err := m.leaderProc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	m.Poweroff()
	if !m.exited() {
		t.Fatal("systemd-nspawn still runs after Poweroff")
	}
	t.Logf("stuck container killed in %v", time.Since(start).Round(time.Millisecond))
	for _, pid := range append(sleeper, m.Leader) {
		Poll(t, 30*time.Second, fmt.Sprintf("pid %d of the container to die", pid), func() error {
			if alive(pid) {
				return errors.New("still alive")
			}
			return nil
		})
	}
}

// alive reports whether pid exists and is not a zombie (killed, waiting to be reaped).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, ok := strings.Cut(string(b), ") ")
	return ok && !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

// hostPIDs returns the host pids of the processes named comm in the container's pid namespace.
func hostPIDs(t *testing.T, m *Machine, comm string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil || strings.TrimSpace(string(b)) != comm {
			continue
		}
		f, err := os.Open("/proc/" + e.Name() + "/ns/pid")
		if err != nil {
			continue
		}
		id, err := fileID(f)
		f.Close()
		if err == nil && id == m.ns["pid"] {
			pids = append(pids, pid)
		}
	}
	return pids
}

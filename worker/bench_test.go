package worker

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/testenv/fakeantnode"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

// benchFleet is n healthy nodes served by one fake antnode in fleet mode, recorded RUNNING in a real
// database, with the host pinned idle: each cycle is an idle one (survey, decide, record).
func benchFleet(b *testing.B, n int) *fleet {
	b.Helper()
	dir := b.TempDir()
	f := &fleet{dir: dir, bin: fakeantnode.Build(b), now: time.Unix(1_900_000_000, 0), boot: time.Unix(1_899_990_000, 0)}
	f.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	f.plat = config.Platform{OS: "linux", Mode: gen.ModeUser, Home: filepath.Join(dir, "home"), CPUCount: 2}
	c := config.Defaults(f.plat)
	c.RewardsAddress, c.ProcessManager = testAddr, "setsid+user"
	c.NodeStorage, c.AntnodePath, c.DBPath = filepath.Join(dir, "nodes"), filepath.Join(dir, "bin", "antnode"), filepath.Join(dir, "colony.db")
	c.NodeCap, c.PortStart, c.MetricsPortStart, c.RPCPortStart = n, 23, 25, 27
	c.SurveyTimeout = 2000
	f.cfg = c
	if err := os.MkdirAll(filepath.Dir(c.AntnodePath), 0o755); err != nil {
		b.Fatal(err)
	}
	fakeantnode.Release(b, f.bin, "0.4.17", c.AntnodePath)

	cmd := exec.Command(f.bin, "fleet", "--metrics-port-start", fmt.Sprint(c.MetricsPortStart*1000+1), "--count", fmt.Sprint(n), "--version", "0.4.17")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan bool)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "ready") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		b.Fatal("fleet not ready")
	}

	st, err := store.Create(context.Background(), c.DBPath, MachineFromConfig(c, 2, f.boot))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	f.st = st
	err = st.Write(context.Background(), func(w *store.Writer) error {
		for id := 1; id <= n; id++ {
			root := filepath.Join(c.NodeStorage, fmt.Sprintf("antnode%04d", id))
			if err := os.MkdirAll(root, 0o755); err != nil {
				return err
			}
			row := store.Node{ID: id, MachineID: 1, ManagerType: c.ProcessManager, NodeName: fmt.Sprintf("%04d", id),
				Service: fmt.Sprintf("antnode%04d.service", id), User: "bench", Binary: c.AntnodePath, Version: "0.4.17",
				RootDir: root, Port: c.PortStart*1000 + id, MetricsPort: c.MetricsPortStart*1000 + id, Network: "evm-arbitrum-one",
				Wallet: testAddr, Status: store.StatusRunning, Timestamp: f.now.Unix() - 3600, Age: f.now.Unix() - 3600 + int64(id),
				Host: "127.0.0.1", Method: c.ProcessManager, Layout: "1", Rewards: "0"}
			if err := w.InsertNode(row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func (f *fleet) idleCycle(b *testing.B) *Result {
	f.now = f.now.Add(time.Minute)
	r, err := Run(context.Background(), Options{Store: f.st, Config: f.cfg, Platform: f.plat, Logger: f.log,
		Now: func() time.Time { return f.now }, Survey: f.pinned, HeldPorts: func(context.Context) (map[int]bool, error) { return nil, nil }})
	if err != nil {
		b.Fatal(err)
	}
	if k := kinds(r); k != "survey" {
		b.Fatalf("not an idle cycle: %s (%d up of %d)", k, r.Plan.Counts.Running, r.Plan.Counts.Total)
	}
	return r
}

// BenchmarkIdleCycle measures whole idle cycles and reports the bytes the process wrote per cycle
// (wchar from /proc/self/io: database, WAL and everything else).
func BenchmarkIdleCycle(b *testing.B) {
	for _, n := range []int{50, 1000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			f := benchFleet(b, n)
			f.idleCycle(b) // warm the version cache and host counters
			w0, d0 := selfIO()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f.idleCycle(b)
			}
			b.StopTimer()
			w1, d1 := selfIO()
			b.ReportMetric(float64(w1-w0)/float64(b.N), "wchar-B/cycle")
			b.ReportMetric(float64(d1-d0)/float64(b.N), "disk-B/cycle")
		})
	}
}

// BenchmarkSurveyFleet1000 surveys 1,000 healthy nodes served by one fake antnode in fleet mode,
// with the default worker pool and one node at a time, in the same run.
func BenchmarkSurveyFleet1000(b *testing.B) {
	f := benchFleet(b, 1000)
	nodes, err := f.st.Nodes(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	var targets []survey.Target
	for _, n := range nodes {
		targets = append(targets, survey.Target{ID: n.ID, Host: n.Host, MetricsPort: n.MetricsPort, Binary: n.Binary, RootDir: n.RootDir})
	}
	versions := &survey.VersionCache{}
	for _, bc := range []struct {
		name        string
		concurrency int
	}{{"pool", 0}, {"sequential", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				obs := survey.Survey(context.Background(), survey.Options{Targets: targets, NodeStorage: f.cfg.NodeStorage,
					Versions: versions, Concurrency: bc.concurrency, Timeout: 2 * time.Second})
				up := 0
				for _, n := range obs.Nodes {
					if n.Up {
						up++
					}
				}
				if up != 1000 {
					b.Fatalf("%d of 1000 up", up)
				}
			}
		})
	}
}

// BenchmarkSortedNodes compares the cycle's ordering of a thousand rows (sorting the ids) with
// sorting the rows themselves, as it did before, in one run.
func BenchmarkSortedNodes(b *testing.B) {
	c := &cycle{nodes: map[int]store.Node{}}
	for id := 1; id <= 1000; id++ {
		c.nodes[id] = store.Node{ID: id, Service: fmt.Sprintf("antnode%04d.service", id), Version: "0.4.17"}
	}
	b.Run("ids", func(b *testing.B) {
		for b.Loop() {
			if ns := c.sortedNodes(); ns[0].ID != 1 || ns[999].ID != 1000 {
				b.Fatal("not in id order")
			}
		}
	})
	b.Run("rows", func(b *testing.B) {
		for b.Loop() {
			out := make([]store.Node, 0, len(c.nodes))
			for _, n := range c.nodes {
				out = append(out, n)
			}
			sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
		}
	})
}

package worker

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"github.com/wnm-project/wnm/testenv/poll"
	"github.com/wnm-project/wnm/worker/survey"
)

// An idle cycle asks no running node for its /metadata again, and writes back only the state that
// changed: the host counters, not the version cache or the /metadata answers. Each write is
// counted by a trigger on the state table.
func TestIdleCycleWritesOnlyChangedState(t *testing.T) {
	f := newFleet(t, nil)
	f.grow()
	// The cached answers are used only for a process that was running well before they were read:
	// let the nodes' own uptime pass that margin first.
	uptime := regexp.MustCompile(`(?m)^ant_node_uptime (\d+)`)
	for id := range f.nodes() {
		poll.Until(t, 30*time.Second, "node "+strconv.Itoa(id)+" to be up 4 seconds", func() bool {
			m := uptime.FindStringSubmatch(f.get(id, "/metrics"))
			if len(m) != 2 {
				return false
			}
			up, _ := strconv.Atoi(m[1])
			return up >= 4
		})
	}

	conn, err := sqlite.OpenConn(f.cfg.DBPath, sqlite.OpenReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := sqlitex.ExecuteScript(conn, `
		CREATE TABLE state_writes (key TEXT);
		CREATE TRIGGER count_inserts AFTER INSERT ON wnm_state BEGIN INSERT INTO state_writes VALUES (new.key); END;
		CREATE TRIGGER count_updates AFTER UPDATE ON wnm_state BEGIN INSERT INTO state_writes VALUES (new.key); END;`, nil); err != nil {
		t.Fatal(err)
	}
	writes := func() map[string]int {
		t.Helper()
		out := map[string]int{}
		err := sqlitex.ExecuteTransient(conn, "SELECT key, count(*) FROM state_writes GROUP BY key;", &sqlitex.ExecOptions{
			ResultFunc: func(s *sqlite.Stmt) error { out[s.ColumnText(0)] = s.ColumnInt(1); return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// The survey reads the real clock, as the node's uptime does; the fleet's injected clock runs
	// ahead of it, a minute per cycle.
	realClock := func(ctx context.Context, o survey.Options) survey.Observation {
		o.Now = time.Now
		return f.pinned(ctx, o)
	}
	run := func() *Result {
		t.Helper()
		f.now = f.now.Add(61 * time.Second)
		r, err := Run(context.Background(), Options{
			Store: f.st, Config: f.cfg, Platform: f.plat, Logger: f.log,
			Now: func() time.Time { return f.now }, Survey: realClock,
			HeldPorts: func(context.Context) (map[int]bool, error) { return nil, nil },
		})
		if err != nil {
			t.Fatalf("cycle: %v", err)
		}
		if got := kinds(r); got != "survey" {
			t.Fatalf("cycle: %s, want an idle one (survey)", got)
		}
		return r
	}

	// The answers the growth stored carry the injected clock's times, ahead of the real one: they
	// are not trusted, so this cycle asks again and stores them.
	r := run()
	for _, o := range r.Obs.Nodes {
		if o.MetadataCached || o.MetadataStatus != 200 || o.Version != "0.4.17" {
			t.Errorf("first cycle, node %d: cached %v, /metadata status %d, version %q; want asked (200), 0.4.17", o.ID, o.MetadataCached, o.MetadataStatus, o.Version)
		}
	}
	first := writes()
	if first[stateMetadata] != 1 || first[stateCounters] != 1 {
		t.Errorf("first cycle wrote %v, want the /metadata answers and the counters once", first)
	}

	r = run()
	for _, o := range r.Obs.Nodes {
		if !o.MetadataCached || o.MetadataStatus != 0 || o.Version != "0.4.17" || o.PeerID == "" {
			t.Errorf("idle cycle, node %d: cached %v, /metadata status %d, version %q, peer id %q; want not asked, 0.4.17 and the peer id", o.ID, o.MetadataCached, o.MetadataStatus, o.Version, o.PeerID)
		}
	}
	second := writes()
	for _, key := range []string{stateMetadata, stateVersions, stateRestarts} {
		if second[key] != first[key] {
			t.Errorf("the idle cycle wrote %s, unchanged (writes %v, then %v)", key, first, second)
		}
	}
	if second[stateCounters] != first[stateCounters]+1 {
		t.Errorf("the idle cycle did not write the host counters (writes %v, then %v)", first, second)
	}
	for id, n := range f.nodes() {
		if n.Version != "0.4.17" || n.PeerID == "" {
			t.Errorf("node %d row: version %q, peer id %q", id, n.Version, n.PeerID)
		}
	}
}

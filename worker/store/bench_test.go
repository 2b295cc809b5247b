package store

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// BenchmarkUpdateNodes1000 updates 1,000 node rows in one Write, as a survey
// of a large host does each cycle. Besides time and allocations it reports
// how many bytes one such Write appends to the WAL (measured from an empty
// WAL, so it is the commit's full footprint before any checkpoint).
func BenchmarkUpdateNodes1000(b *testing.B) {
	ctx := context.Background()
	s, err := Create(ctx, b.TempDir()+"/colony.db", testMachine())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	nodes := make([]Node, 1000)
	for i := range nodes {
		nodes[i] = testNode(i + 1)
		nodes[i].ContainerID = nil
	}
	if err := s.Write(ctx, func(w *Writer) error {
		for _, n := range nodes {
			if err := w.InsertNode(n); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}

	var walBytes int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		checkpoint(b, s)
		for j := range nodes {
			nodes[j].Records = int64(i*1000 + j)
			nodes[j].Timestamp++
			nodes[j].Uptime += 60
		}
		b.StartTimer()
		if err := s.Write(ctx, func(w *Writer) error {
			for _, n := range nodes {
				if err := w.UpdateNode(n); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		fi, err := os.Stat(s.Path() + "-wal")
		if err != nil {
			b.Fatal(err)
		}
		walBytes += fi.Size()
		b.StartTimer()
	}
	b.ReportMetric(float64(walBytes)/float64(b.N), "wal-B/op")
}

// BenchmarkRecordCycleFullHistory records a cycle into a history that is at
// its row limit, so every call prunes one row and sums the sizes of 20,000.
func BenchmarkRecordCycleFullHistory(b *testing.B) {
	ctx := context.Background()
	s, err := Create(ctx, b.TempDir()+"/colony.db", testMachine())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	plan := json.RawMessage(`"` + strings.Repeat("p", 2000) + `"`)
	at := int64(1767225600000)
	fill := func(n int) {
		if err := s.Write(ctx, func(w *Writer) error {
			for range n {
				at += 60000
				if _, err := w.RecordCycle(Cycle{StartedAt: at, Plan: plan}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	// Fill the history directly; recording 20,000 cycles one by one would
	// prune 20,000 times.
	rows(b, s, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
		INSERT INTO cycle (started_at, duration_ms, node_count, plan, results, changes, dry_run, error)
		SELECT 1767225600000 + i * 60000, 0, 0, '"' || printf('%.*c', 2000, 'p') || '"', '', '', 0, '' FROM n;`)
	at += 20000 * 60000
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		fill(1)
	}
}

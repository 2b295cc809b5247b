package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/wnm-project/wnm/worker"
	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/store"
)

type historyCmd struct {
	Since time.Duration `name:"since" placeholder:"DURATION" help:"Only cycles that started within this long (e.g. 1h, 30m); default: every recorded cycle"`
	Node  int           `name:"node" placeholder:"N" help:"Only cycles that acted on, changed or explained node N"`
}

func (historyCmd) Help() string {
	return "Lists the recorded cycles and forced actions, oldest first: when each started, how long it took, what it " +
		"planned and why, how each action went, which nodes changed status, and what it did not do and why. " +
		"It reads the database only. wnm keeps 7 days of history."
}

// historyChange is one status change, as the cycle table records it.
type historyChange struct {
	Node   int    `json:"node"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// historyRow is one cycle in `wnm history --json`.
type historyRow struct {
	ID         int64                 `json:"id"`
	Started    string                `json:"started"`
	DurationMS int64                 `json:"duration_ms"`
	Forced     string                `json:"forced,omitempty"`
	Nodes      int                   `json:"nodes"`
	Host       map[string]*float64   `json:"host"`
	Actions    []decide.Action       `json:"actions"`
	Results    []worker.ActionResult `json:"results"`
	Changes    []historyChange       `json:"changes"`
	NotTaken   []decide.Skip         `json:"not_taken"`
	Error      string                `json:"error,omitempty"`
}

func figure(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

// Run prints the history.
func (h historyCmd) Run(s *session) error {
	ctx := context.Background()
	st, err := s.load(ctx, readOnly)
	if err != nil {
		return err
	}
	defer st.close()
	if err := st.needMachine(); err != nil {
		return err
	}
	if h.Since < 0 {
		return usageErr{fmt.Errorf("--since %s: must not be negative", h.Since)}
	}
	cycles, err := st.st.Cycles(ctx, 0)
	if err != nil {
		return err
	}
	slices.Reverse(cycles)
	var cutoff int64
	if h.Since > 0 {
		cutoff = s.env.now().Add(-h.Since).UnixMilli()
	}
	rows := []historyRow{}
	for _, c := range cycles {
		if c.StartedAt < cutoff {
			continue
		}
		r, err := historyOf(c)
		if err != nil {
			return fmt.Errorf("cycle %d: %w", c.ID, err)
		}
		if h.Node != 0 && !r.concerns(h.Node) {
			continue
		}
		if h.Node != 0 {
			r.NotTaken = slices.DeleteFunc(r.NotTaken, func(sk decide.Skip) bool { return sk.Node != h.Node })
		}
		rows = append(rows, r)
	}
	if s.cli.JSON {
		enc := json.NewEncoder(s.env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(s.env.stdout, "No cycles recorded.")
		return nil
	}
	for _, r := range rows {
		printHistory(s, r)
	}
	return nil
}

func historyOf(c store.Cycle) (historyRow, error) {
	plan, err := worker.ParsePlanRecord(c.Plan)
	if err != nil {
		return historyRow{}, fmt.Errorf("plan: %w", err)
	}
	r := historyRow{
		ID: c.ID, Started: time.UnixMilli(c.StartedAt).Format(time.RFC3339), DurationMS: c.DurationMS,
		Forced: plan.Forced, Nodes: c.NodeCount, Actions: plan.Actions, NotTaken: plan.NotTaken, Error: c.Error,
		Results: []worker.ActionResult{}, Changes: []historyChange{},
		Host: map[string]*float64{
			"cpu_percent": figure(c.CPUPercent), "mem_percent": figure(c.MemPercent), "disk_percent": figure(c.DiskPercent),
			"load1": figure(c.Load1), "load5": figure(c.Load5), "load15": figure(c.Load15),
		},
	}
	if r.Actions == nil {
		r.Actions = []decide.Action{}
	}
	if r.NotTaken == nil {
		r.NotTaken = []decide.Skip{}
	}
	if len(c.Results) > 0 {
		if err := json.Unmarshal(c.Results, &r.Results); err != nil {
			return r, fmt.Errorf("results: %w", err)
		}
	}
	if len(c.Changes) > 0 {
		if err := json.Unmarshal(c.Changes, &r.Changes); err != nil {
			return r, fmt.Errorf("changes: %w", err)
		}
	}
	return r, nil
}

// concerns reports whether the cycle acted on, changed or explained node id.
func (r historyRow) concerns(id int) bool {
	for _, a := range r.Actions {
		if a.Node == id {
			return true
		}
	}
	for _, c := range r.Changes {
		if c.Node == id {
			return true
		}
	}
	for _, s := range r.NotTaken {
		if s.Node == id {
			return true
		}
	}
	return false
}

func printHistory(s *session, r historyRow) {
	w := s.env.stdout
	what := "cycle"
	if r.Forced != "" {
		what = "forced " + r.Forced
	}
	cpu := "cpu ?"
	if v := r.Host["cpu_percent"]; v != nil {
		cpu = fmt.Sprintf("cpu %.1f%%", *v)
	}
	fmt.Fprintf(w, "%s  %s  %.1fs  %d nodes  %s\n", r.Started, what, float64(r.DurationMS)/1000, r.Nodes, cpu)
	done := map[string]worker.ActionResult{}
	for _, res := range r.Results {
		done[fmt.Sprint(res.Kind, res.Node)] = res
	}
	for _, a := range r.Actions {
		line := a.Kind.String()
		if a.Node != 0 {
			line += fmt.Sprintf(" node %d", a.Node)
		}
		if res, ok := done[fmt.Sprint(a.Kind, a.Node)]; ok && a.Kind != decide.Survey && a.Kind != decide.Resurvey {
			if res.OK {
				line += " ok"
			} else {
				line += " FAILED: " + res.Error
			}
		}
		fmt.Fprintf(w, "  %s (%s)\n", line, a.Reason)
	}
	for _, c := range r.Changes {
		fmt.Fprintf(w, "  node %d %s -> %s (%s)\n", c.Node, c.From, c.To, c.Reason)
	}
	for _, sk := range r.NotTaken {
		fmt.Fprintf(w, "  %s\n", strings.TrimSpace(sk.Reason))
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
}

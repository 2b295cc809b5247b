package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/wnm-project/wnm/worker"
	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/survey"
)

type planCmd struct {
	Snapshot string `name:"snapshot" placeholder:"FILE" type:"existingfile" help:"Plan from this survey snapshot (wnm survey --json) instead of a live survey, at the snapshot's own time"`
	Now      string `name:"now" placeholder:"TIME" help:"Plan as if it were this time (RFC 3339, e.g. 2026-12-02T12:41:07Z)"`
}

func (planCmd) Help() string {
	return "Surveys the host and nodes (or reads --snapshot) and prints the plan the next cycle would follow, " +
		"with every action's reason and, under \"not taken\", every decision it did not take with the measured " +
		"figure beside its threshold or the limit in use and by which node. A snapshot is planned at its own " +
		"time, or at --now, so a recorded situation replays exactly. It takes no lock and changes nothing: no " +
		"database write, no node touched."
}

// Run prints the plan.
func (p planCmd) Run(s *session) error {
	ctx := context.Background()
	o, done, err := s.workerOptions(ctx)
	if err != nil {
		return err
	}
	defer done()
	var obs survey.Observation
	if p.Snapshot != "" {
		b, err := os.ReadFile(p.Snapshot)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &obs); err != nil {
			return fmt.Errorf("snapshot %s: %w", p.Snapshot, err)
		}
		if at := obs.Started; !at.IsZero() {
			o.Now = func() time.Time { return at }
		} else if p.Now == "" {
			s.logger().Warn("the snapshot has no started time: planning at the current time (give --now to replay it exactly)", "snapshot", p.Snapshot)
		}
		// The snapshot is the world the plan is made for: no live socket table either.
		o.HeldPorts = func(context.Context) (map[int]bool, error) { return nil, nil }
	} else if obs, err = worker.Observe(ctx, o); err != nil {
		return err
	}
	if p.Now != "" {
		at, err := time.Parse(time.RFC3339, p.Now)
		if err != nil {
			return usageErr{fmt.Errorf("--now %q: want an RFC 3339 time such as 2026-12-02T12:41:07Z", p.Now)}
		}
		o.Now = func() time.Time { return at }
	}
	ad, plan, err := worker.Preview(ctx, o, obs)
	if err != nil {
		return err
	}
	if s.cli.JSON {
		return writePlanJSON(s, plan, adoptionOrNil(ad))
	}
	printAdoption(s, ad)
	fmt.Fprint(s.env.stdout, plan.String())
	return nil
}

// writePlanJSON prints the plan as JSON, with an "adoption" key after the plan's own keys when
// the next cycle would adopt or refuse node definitions.
func writePlanJSON(s *session, plan decide.Plan, ad *worker.Adoption) error {
	b, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		return err
	}
	if ad != nil {
		a, err := json.MarshalIndent(ad, "  ", "  ")
		if err != nil {
			return err
		}
		b = bytes.TrimSuffix(bytes.TrimRight(b, "\n"), []byte("}"))
		b = append(bytes.TrimRight(b, "\n "), []byte(",\n  \"adoption\": ")...)
		b = append(append(b, a...), []byte("\n}")...)
	}
	_, err = fmt.Fprintf(s.env.stdout, "%s\n", b)
	return err
}

func adoptionOrNil(ad worker.Adoption) *worker.Adoption {
	if len(ad.Adopt) == 0 && len(ad.Refused) == 0 && ad.Above == 0 && len(ad.Reserved) == 0 {
		return nil
	}
	return &ad
}

// printAdoption prints the adoption step of the next cycle: what it adopts, what it leaves alone
// and why, and the ids new nodes stay clear of. The plan that follows is computed as if the
// adoptable nodes were adopted.
func printAdoption(s *session, ad worker.Adoption) {
	out := s.env.stdout
	for _, n := range ad.Adopt {
		fmt.Fprintf(out, "adopt: %s as node %d (port %d, metrics %d, wallet %s, root %s)\n", n.Service, n.ID, n.Port, n.MetricsPort, n.Wallet, n.RootDir)
	}
	for _, r := range ad.Refused {
		fmt.Fprintf(out, "leave alone: %s: %s\n", r.Service, r.Reason)
	}
	if ad.Above > 0 {
		fmt.Fprintf(out, "new node ids start above %d (held by a unit or node directory without a row)\n", ad.Above)
	}
	if len(ad.Reserved) > 0 {
		fmt.Fprintf(out, "ids kept free (their ports are held): %v\n", ad.Reserved)
	}
}

type surveyCmd struct{}

func (surveyCmd) Help() string {
	return "Reads the host figures and polls every node's metrics and metadata endpoints, then prints the " +
		"observation. With --json it prints the snapshot that wnm plan --snapshot reads. It changes nothing."
}

// Run prints the observation.
func (surveyCmd) Run(s *session) error {
	ctx := context.Background()
	o, done, err := s.workerOptions(ctx)
	if err != nil {
		return err
	}
	defer done()
	obs, err := worker.Observe(ctx, o)
	if err != nil {
		return err
	}
	if s.cli.JSON {
		enc := json.NewEncoder(s.env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(obs)
	}
	h := obs.Host
	f := func(r survey.Reading, prec int) string {
		if !r.Known {
			return "unknown"
		}
		return strconv.FormatFloat(r.Value, 'f', prec, 64)
	}
	fmt.Fprintf(s.env.stdout, "host: cpu %s%%, memory %s%%, disk %s%% of %s, load %s %s %s, disk r/w %s/%s B/s, net rx/tx %s/%s B/s (%s window)\n",
		f(h.CPUPercent, 1), f(h.MemPercent, 1), f(h.DiskPercent, 1), h.DiskPath, f(h.Load1, 2), f(h.Load5, 2), f(h.Load15, 2),
		f(h.DiskReadBps, 0), f(h.DiskWriteBps, 0), f(h.NetRecvBps, 0), f(h.NetSendBps, 0), h.RateSource)
	fmt.Fprintf(s.env.stdout, "latest antnode: %s %s\n", orDash(obs.LatestVersion), obs.LatestErr)
	w := tabwriter.NewWriter(s.env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tUP\tVERSION\tBINARY\tRECORDS\tPEERS\tUPTIME\tERROR")
	for _, n := range obs.Nodes {
		fmt.Fprintf(w, "%d\t%v\t%s\t%s\t%d\t%d\t%d\t%s\n", n.ID, n.Up, orDash(n.Version), orDash(n.BinaryVersion), n.Records, n.ConnectedPeers, n.Uptime, n.Error)
	}
	w.Flush()
	for _, e := range obs.Errors {
		fmt.Fprintln(s.env.stdout, "error:", e)
	}
	return nil
}

// workerOptions loads the machine and returns what the worker's read-only entry points need.
func (s *session) workerOptions(ctx context.Context) (worker.Options, func(), error) {
	st, err := s.load(ctx, readOnly)
	if err != nil {
		return worker.Options{}, nil, err
	}
	if err := st.needMachine(); err != nil {
		st.close()
		return worker.Options{}, nil, err
	}
	cfg := st.resolved.Config
	if err := st.resolved.Validate(); err != nil {
		st.close()
		return worker.Options{}, nil, err
	}
	if _, err := st.resolved.Changes(st.stored); err != nil {
		st.close()
		return worker.Options{}, nil, err
	}
	return worker.Options{Store: st.st, Config: cfg, Platform: st.plat, Logger: s.logger()}, st.close, nil
}

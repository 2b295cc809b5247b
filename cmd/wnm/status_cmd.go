package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/wnm-project/wnm/worker"
	"github.com/wnm-project/wnm/worker/store"
)

type statusCmd struct{}

func (statusCmd) Help() string {
	return "Reads the database only: it polls nothing and changes nothing. With --json it prints the node rows as a JSON array."
}

// statusRow is one node in `wnm status --json`. Keys are stable snake_case.
type statusRow struct {
	ID             int    `json:"id"`
	Service        string `json:"service"`
	Status         string `json:"status"`
	Version        string `json:"version"`
	Installed      string `json:"installed_version"`
	Port           int    `json:"port"`
	MetricsPort    int    `json:"metrics_port"`
	Records        int64  `json:"records"`
	ConnectedPeers int64  `json:"connected_peers"`
	Uptime         int64  `json:"uptime_seconds"`
	PeerID         string `json:"peer_id"`
	Wallet         string `json:"wallet"`
	RootDir        string `json:"root_dir"`
	Changed        int64  `json:"last_change"`
	Age            int64  `json:"age"`
}

// Run prints the node table.
func (statusCmd) Run(s *session) error {
	ctx := context.Background()
	st, err := s.load(ctx, readOnly)
	if err != nil {
		return err
	}
	defer st.close()
	if err := st.needMachine(); err != nil {
		return err
	}
	nodes, err := st.st.Nodes(ctx)
	if err != nil {
		return err
	}
	installed := worker.InstalledVersions(ctx, st.st)
	rows := make([]statusRow, 0, len(nodes))
	for _, n := range nodes {
		rows = append(rows, statusRow{
			ID: n.ID, Service: n.Service, Status: string(n.Status), Version: n.Version, Installed: installed[n.Binary], Port: n.Port,
			MetricsPort: n.MetricsPort, Records: n.Records, ConnectedPeers: n.ConnectedPeers, Uptime: n.Uptime,
			PeerID: n.PeerID, Wallet: n.Wallet, RootDir: n.RootDir, Changed: n.Timestamp, Age: n.Age,
		})
	}
	if s.cli.JSON {
		enc := json.NewEncoder(s.env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	printStatus(s, rows, nodes)
	return nil
}

func printStatus(s *session, rows []statusRow, nodes []store.Node) {
	if len(rows) == 0 {
		fmt.Fprintln(s.env.stdout, "No nodes found.")
		return
	}
	now := s.env.now()
	w := tabwriter.NewWriter(s.env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSERVICE\tSTATUS\tVERSION\tINSTALLED\tPORT\tMETRICS\tRECORDS\tPEERS\tUPTIME\tLAST CHANGE")
	for _, r := range rows {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s ago\n", r.ID, r.Service, r.Status, orDash(r.Version), orDash(r.Installed),
			r.Port, r.MetricsPort, r.Records, r.ConnectedPeers, duration(time.Duration(r.Uptime)*time.Second),
			duration(now.Sub(time.Unix(r.Changed, 0))))
	}
	w.Flush()
	counts := map[store.Status]int{}
	for _, n := range nodes {
		counts[n.Status]++
	}
	fmt.Fprintf(s.env.stdout, "%d nodes: %d running, %d stopped, %d restarting, %d upgrading, %d removing, %d disabled, %d dead\n",
		len(nodes), counts[store.StatusRunning], counts[store.StatusStopped], counts[store.StatusRestarting],
		counts[store.StatusUpgrading], counts[store.StatusRemoving], counts[store.StatusDisabled], counts[store.StatusDead])
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// duration prints d compactly: 45s, 12m, 3h20m, 2d4h.
func duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wnm-project/wnm/worker"
)

type reportCmd struct {
	Name   string `arg:"" name:"report" help:"node-status, node-status-details, influx-resources, machine-config or machine-metrics"`
	Format string `name:"format" placeholder:"FORMAT" help:"Report format: text (default), json, env or config (--json is json)"`
}

func (reportCmd) Help() string {
	return "Prints one of wnm-python's reports to stdout. node-status and node-status-details read the node table; " +
		"--service_name picks nodes (antnode0001, antnode0001.service or 1). influx-resources prints NTracking's " +
		"InfluxDB line protocol (nodes, nodes_totals, nodes_network). machine-config prints the settings row, " +
		"in the config format as a file that -c reads back (its columns that are not settings are ignored with a warning). " +
		"machine-metrics reads the host now. Reports write nothing."
}

// Run prints the report.
func (r reportCmd) Run(s *session) error { return s.report(r.Name, r.Format) }

// report prints a report by name; format "" means --report_format, --json, or text.
func (s *session) report(name, format string) error {
	if !slices.Contains(worker.Reports, name) {
		return usageErr{fmt.Errorf("report %q: want one of %s", name, strings.Join(worker.Reports, ", "))}
	}
	if format == "" && s.cli.ReportFormat != nil {
		format = *s.cli.ReportFormat
	}
	if s.cli.JSON {
		if format != "" && format != "json" {
			return usageErr{fmt.Errorf("--json and format %q: choose one", format)}
		}
		format = "json"
	}
	if format == "" {
		format = "text"
	}
	if !slices.Contains(worker.ReportFormats, format) {
		return usageErr{fmt.Errorf("report format %q: want one of %s", format, strings.Join(worker.ReportFormats, ", "))}
	}
	ctx := context.Background()
	o, done, err := s.workerOptions(ctx)
	if err != nil {
		return err
	}
	defer done()
	req := worker.ReportRequest{Name: name, Format: format, Now: s.env.now()}
	if s.cli.ServiceName != nil {
		req.Names = splitNames(*s.cli.ServiceName)
	}
	out, err := worker.Report(ctx, o, req)
	if err != nil {
		return err
	}
	fmt.Fprint(s.env.stdout, out)
	return nil
}

package main

import (
	"fmt"
	"strings"

	"github.com/wnm-project/wnm/worker"
)

// usage names what a run is doing, for checking that every flag given applies to it.
type usage struct {
	forced string // forced action (node VERB, teardown, --force_action), "" if none
	report bool   // a report is printed
	cmd    string // the command path, e.g. "run", "node add", "plan"
}

// checkFlags refuses wnm-python flags that the run would not read: no flag is accepted and
// ignored. Each refusal names the flag and where it applies.
func (s *session) checkFlags(u usage) error {
	c := s.cli
	cycle := u.forced != "" || u.cmd == "run"
	var problems []string
	refuse := func(flag, where string) {
		problems = append(problems, fmt.Sprintf("%s applies only to %s", flag, where))
	}
	if c.Confirm && u.forced != "teardown" && u.forced != "wnm-db-migration" {
		refuse("--confirm", "wnm teardown and --force_action teardown|wnm-db-migration")
	}
	countable := map[string]bool{"add": true, "remove": true, "start": true, "stop": true, "restart": true, "upgrade": true, "enable": true}
	if c.Count != nil && !countable[u.forced] {
		refuse("--count", "forced actions that choose nodes: wnm node add|remove|start|stop|restart|upgrade|enable --count N")
	}
	named := map[string]bool{"remove": true, "start": true, "stop": true, "restart": true, "upgrade": true, "disable": true, "enable": true, "survey": true}
	if c.ServiceName != nil && !named[u.forced] && !u.report {
		refuse("--service_name", "forced actions on named nodes (wnm node remove|start|stop|restart|upgrade|disable|enable|survey) and reports")
	}
	if c.ReportFormat != nil && (!u.report || c.Report == nil) {
		refuse("--report_format", "--report NAME (with wnm report NAME, use --format)")
	}
	jsonCmds := map[string]bool{"status": true, "survey": true, "plan": true, "history": true, "version": true, "config show": true}
	if c.JSON && !u.report && u.forced == "" && !jsonCmds[u.cmd] && !c.VersionFlag {
		refuse("--json", "status, survey, plan, history, version, config show, reports and forced actions")
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{c.Verbose, "-v"}, {c.ShowMachineConfig, "--show_machine_config"}, {c.ShowMachineMetrics, "--show_machine_metrics"}, {c.ShowDecisions, "--show_decisions"}} {
		if f.on && !cycle {
			refuse(f.name, "a cycle (wnm, wnm run) or a forced action; wnm plan --json shows the decision, wnm report machine-config|machine-metrics the rest")
		}
	}
	if len(problems) > 0 {
		return usageErr{fmt.Errorf("%s", strings.Join(problems, "; "))}
	}
	return nil
}

// show is what -v and the --show_* flags ask a cycle to log.
func (s *session) show() worker.Show {
	c := s.cli
	return worker.Show{
		MachineConfig:  c.Verbose || c.ShowMachineConfig,
		MachineMetrics: c.Verbose || c.ShowMachineMetrics,
		Decisions:      c.Verbose || c.ShowDecisions,
	}
}

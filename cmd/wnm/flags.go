package main

// settingFlags holds one command-line flag per configuration setting, in wnm-python's snake_case
// spelling with the kebab-case spelling as an alias. A nil field was not given. Help texts come from
// the config package's table (see helpVars); TestSettingFlags keeps the two in step.
type settingFlags struct {
	NodeCap                 *string `setting:"node_cap" name:"node_cap" aliases:"node-cap" help:"${help_node_cap}" placeholder:"INT" group:"settings"`
	CpuLessThan             *string `setting:"cpu_less_than" name:"cpu_less_than" aliases:"cpu-less-than" help:"${help_cpu_less_than}" placeholder:"INT" group:"settings"`
	CpuRemove               *string `setting:"cpu_remove" name:"cpu_remove" aliases:"cpu-remove" help:"${help_cpu_remove}" placeholder:"INT" group:"settings"`
	MemLessThan             *string `setting:"mem_less_than" name:"mem_less_than" aliases:"mem-less-than" help:"${help_mem_less_than}" placeholder:"INT" group:"settings"`
	MemRemove               *string `setting:"mem_remove" name:"mem_remove" aliases:"mem-remove" help:"${help_mem_remove}" placeholder:"INT" group:"settings"`
	HdLessThan              *string `setting:"hd_less_than" name:"hd_less_than" aliases:"hd-less-than" help:"${help_hd_less_than}" placeholder:"INT" group:"settings"`
	HdRemove                *string `setting:"hd_remove" name:"hd_remove" aliases:"hd-remove" help:"${help_hd_remove}" placeholder:"INT" group:"settings"`
	HdioReadLessThan        *string `setting:"hdio_read_less_than" name:"hdio_read_less_than" aliases:"hdio-read-less-than" help:"${help_hdio_read_less_than}" placeholder:"INT" group:"settings"`
	HdioReadRemove          *string `setting:"hdio_read_remove" name:"hdio_read_remove" aliases:"hdio-read-remove" help:"${help_hdio_read_remove}" placeholder:"INT" group:"settings"`
	HdioWriteLessThan       *string `setting:"hdio_write_less_than" name:"hdio_write_less_than" aliases:"hdio-write-less-than" help:"${help_hdio_write_less_than}" placeholder:"INT" group:"settings"`
	HdioWriteRemove         *string `setting:"hdio_write_remove" name:"hdio_write_remove" aliases:"hdio-write-remove" help:"${help_hdio_write_remove}" placeholder:"INT" group:"settings"`
	NetioReadLessThan       *string `setting:"netio_read_less_than" name:"netio_read_less_than" aliases:"netio-read-less-than" help:"${help_netio_read_less_than}" placeholder:"INT" group:"settings"`
	NetioReadRemove         *string `setting:"netio_read_remove" name:"netio_read_remove" aliases:"netio-read-remove" help:"${help_netio_read_remove}" placeholder:"INT" group:"settings"`
	NetioWriteLessThan      *string `setting:"netio_write_less_than" name:"netio_write_less_than" aliases:"netio-write-less-than" help:"${help_netio_write_less_than}" placeholder:"INT" group:"settings"`
	NetioWriteRemove        *string `setting:"netio_write_remove" name:"netio_write_remove" aliases:"netio-write-remove" help:"${help_netio_write_remove}" placeholder:"INT" group:"settings"`
	MaxLoadAverageAllowed   *string `setting:"max_load_average_allowed" name:"max_load_average_allowed" aliases:"max-load-average-allowed" help:"${help_max_load_average_allowed}" placeholder:"FLOAT" group:"settings"`
	DesiredLoadAverage      *string `setting:"desired_load_average" name:"desired_load_average" aliases:"desired-load-average" help:"${help_desired_load_average}" placeholder:"FLOAT" group:"settings"`
	DelayStart              *string `setting:"delay_start" name:"delay_start" aliases:"delay-start" help:"${help_delay_start}" placeholder:"INT" group:"settings"`
	DelayRestart            *string `setting:"delay_restart" name:"delay_restart" aliases:"delay-restart" help:"${help_delay_restart}" placeholder:"INT" group:"settings"`
	DelayUpgrade            *string `setting:"delay_upgrade" name:"delay_upgrade" aliases:"delay-upgrade" help:"${help_delay_upgrade}" placeholder:"INT" group:"settings"`
	DelayRemove             *string `setting:"delay_remove" name:"delay_remove" aliases:"delay-remove" help:"${help_delay_remove}" placeholder:"INT" group:"settings"`
	SurveyDelay             *string `setting:"survey_delay" name:"survey_delay" aliases:"survey-delay" help:"${help_survey_delay}" placeholder:"INT" group:"settings"`
	ActionDelay             *string `setting:"action_delay" name:"action_delay" aliases:"action-delay" help:"${help_action_delay}" placeholder:"INT" group:"settings"`
	MaxConcurrentUpgrades   *string `setting:"max_concurrent_upgrades" name:"max_concurrent_upgrades" aliases:"max-concurrent-upgrades" help:"${help_max_concurrent_upgrades}" placeholder:"INT" group:"settings"`
	MaxConcurrentStarts     *string `setting:"max_concurrent_starts" name:"max_concurrent_starts" aliases:"max-concurrent-starts" help:"${help_max_concurrent_starts}" placeholder:"INT" group:"settings"`
	MaxConcurrentRemovals   *string `setting:"max_concurrent_removals" name:"max_concurrent_removals" aliases:"max-concurrent-removals" help:"${help_max_concurrent_removals}" placeholder:"INT" group:"settings"`
	MaxConcurrentOperations *string `setting:"max_concurrent_operations" name:"max_concurrent_operations" aliases:"max-concurrent-operations" help:"${help_max_concurrent_operations}" placeholder:"INT" group:"settings"`
	NodeStorage             *string `setting:"node_storage" name:"node_storage" aliases:"node-storage" help:"${help_node_storage}" placeholder:"PATH" group:"settings"`
	RewardsAddress          *string `setting:"rewards_address" name:"rewards_address" aliases:"rewards-address" help:"${help_rewards_address}" placeholder:"STRING" group:"settings"`
	DonateAddress           *string `setting:"donate_address" name:"donate_address" aliases:"donate-address" help:"${help_donate_address}" placeholder:"STRING" group:"settings"`
	PortStart               *string `setting:"port_start" name:"port_start" aliases:"port-start" help:"${help_port_start}" placeholder:"THOUSANDS" group:"settings"`
	MetricsPortStart        *string `setting:"metrics_port_start" name:"metrics_port_start" aliases:"metrics-port-start" help:"${help_metrics_port_start}" placeholder:"THOUSANDS" group:"settings"`
	RpcPortStart            *string `setting:"rpc_port_start" name:"rpc_port_start" aliases:"rpc-port-start" help:"${help_rpc_port_start}" placeholder:"THOUSANDS" group:"settings"`
	ProcessManager          *string `setting:"process_manager" name:"process_manager" aliases:"process-manager" help:"${help_process_manager}" placeholder:"STRING" group:"settings"`
	HighestNodeIdUsed       *string `setting:"highest_node_id_used" name:"highest_node_id_used" aliases:"highest-node-id-used" help:"${help_highest_node_id_used}" placeholder:"INT" group:"settings"`
	CrisisBytes             *string `setting:"crisis_bytes" name:"crisis_bytes" aliases:"crisis-bytes" help:"${help_crisis_bytes}" placeholder:"INT" group:"settings"`
	Host                    *string `setting:"host" name:"host" help:"${help_host}" placeholder:"STRING" group:"settings"`
	Environment             *string `setting:"environment" name:"environment" help:"${help_environment}" placeholder:"STRING" group:"settings"`
	StartArgs               *string `setting:"start_args" name:"start_args" aliases:"start-args" help:"${help_start_args}" placeholder:"STRING" group:"settings"`
	NoUpnp                  *bool   `setting:"no_upnp" name:"no_upnp" aliases:"no-upnp" help:"${help_no_upnp}" group:"settings"`
	AntnodePath             *string `setting:"antnode_path" name:"antnode_path" aliases:"antnode-path" help:"${help_antnode_path}" placeholder:"PATH" group:"settings"`
	AntctlPath              *string `setting:"antctl_path" name:"antctl_path" aliases:"antctl-path" help:"${help_antctl_path}" placeholder:"PATH" group:"settings"`
	AntctlDebug             *bool   `setting:"antctl_debug" name:"antctl_debug" aliases:"antctl-debug" help:"${help_antctl_debug}" group:"settings"`
	AntctlVersion           *string `setting:"antctl_version" name:"antctl_version" aliases:"antctl-version" help:"${help_antctl_version}" placeholder:"STRING" group:"settings"`
	SurveyTimeout           *string `setting:"survey_timeout" name:"survey_timeout" aliases:"survey-timeout" help:"${help_survey_timeout}" placeholder:"INT" group:"settings"`
	SurveyConcurrency       *string `setting:"survey_concurrency" name:"survey_concurrency" aliases:"survey-concurrency" help:"${help_survey_concurrency}" placeholder:"INT" group:"settings"`
	Dbpath                  *string `setting:"dbpath" name:"dbpath" help:"${help_dbpath}" placeholder:"PATH" group:"run"`
	Loglevel                *string `setting:"loglevel" name:"loglevel" help:"${help_loglevel}" placeholder:"STRING" group:"run"`
	DryRun                  *bool   `setting:"dry_run" name:"dry_run" aliases:"dry-run" help:"${help_dry_run}" group:"run"`
	ThisSurveyDelay         *string `setting:"this_survey_delay" name:"this_survey_delay" aliases:"this-survey-delay" help:"${help_this_survey_delay}" placeholder:"INT" group:"run"`
	ThisActionDelay         *string `setting:"this_action_delay" name:"this_action_delay" aliases:"this-action-delay" help:"${help_this_action_delay}" placeholder:"INT" group:"run"`
	Interval                *string `setting:"interval" name:"interval" help:"${help_interval}" placeholder:"INT" group:"run"`
	LastStoppedAt           *string `setting:"last_stopped_at" name:"last_stopped_at" aliases:"last-stopped-at" help:"${help_last_stopped_at}" placeholder:"INT" group:"run" hidden:""`
	TextfileDir             *string `setting:"textfile_dir" name:"textfile_dir" aliases:"textfile-dir" help:"${help_textfile_dir}" placeholder:"DIR" group:"run"`
	RustBacktrace           *string `setting:"rust_backtrace" name:"rust_backtrace" aliases:"rust-backtrace" help:"${help_rust_backtrace}" placeholder:"STRING" group:"run" hidden:""`
}

// Package survey reads the world once per cycle: it polls every node's
// /metrics and /metadata concurrently, asks each antnode binary its version,
// and samples the host (CPU, memory, disk, I/O, load, boot time).
//
// It owns observation only. It must not decide anything, write to the
// database, or change a node; and it never fails as a whole. A node that is
// down, hangs or answers garbage is recorded in its [NodeObs]; a host reading
// that fails is an unknown [Reading] plus a line in [Observation.Errors].
//
// Polling runs in a bounded pool ([Options.Concurrency], default 32) with a
// per-request timeout ([Options.Timeout], default 2 s); a node that has not
// answered within [Options.StallAfter] frees its slot and finishes in the
// background, so a few hung nodes cost one timeout, not one each. The host
// is sampled at the same time: CPU % and I/O rates are averaged over the
// whole interval since the previous cycle's [Counters] when those are recent
// and consistent, and otherwise over this survey (at least [MinRateWindow]).
//
// Metrics are mapped as wnm-python does (docs/compatibility.md, "Metrics") with its
// bugs fixed (docs/compatibility.md, fix-17): only a 2xx answer counts, labelled counters are
// summed over every series, floats stay floats, and the wallet balance keeps
// every digit as decimal text.
//
// # JSON schema
//
// [Observation] marshals to the object below (the output of
// `wnm survey --json`, read back by `wnm plan --snapshot FILE`). Every key is
// always present; a marshal/unmarshal round trip is lossless. Times are
// RFC 3339 in UTC with nanoseconds; durations are integer nanoseconds (keys
// ending in _ns); a host reading is a number, or null when unknown.
//
//	{
//	  "started": "2026-03-01T12:00:00.123456789Z",
//	  "took_ns": 412000000,
//	  "host": {
//	    "cpu_percent": 12.5,          // busy %, all CPUs, over rate_window_ns
//	    "mem_percent": 41.2,          // (total − available) / total
//	    "disk_percent": 63.0,         // filesystem holding disk_path
//	    "disk_total_bytes": 1.9e12,
//	    "disk_path": "/var/antctl/services",
//	    "disk_read_bps": 1048576,     // physical disks only
//	    "disk_write_bps": 524288,
//	    "net_recv_bps": 250000,       // all interfaces but loopback
//	    "net_send_bps": 180000,
//	    "load1": 1.5, "load5": 1.2, "load15": 1.0,
//	    "boot_time": 1767225600,      // Unix seconds
//	    "cpu_count": 8,               // CPUs this process may use
//	    "rate_window_ns": 60000000000,
//	    "rate_source": "previous"     // "previous", "sample" or ""
//	  },
//	  "counters": {                   // pass back as Options.Prev
//	    "at": "2026-03-01T12:00:00.535Z", "boot_time": 1767225600,
//	    "cpu_busy": 81234.5, "cpu_total": 650000.25, "has_cpu": true,
//	    "disk_read": 123456789, "disk_write": 987654321, "has_disk": true,
//	    "net_recv": 5555555, "net_send": 4444444, "has_net": true
//	  },
//	  "nodes": [{                     // sorted by id
//	    "id": 1, "up": true, "http_status": 200, "error": "",
//	    "metadata_status": 200, "metadata_error": "",
//	    "metadata_cached": false,     // version and peer id from the last cycles' answer
//	    "root_dir_exists": true,
//	    "version": "0.4.17",          // running, from /metadata; "" unknown
//	    "peer_id": "12D3KooW…",       // "" unknown (the caller keeps the last)
//	    "binary_version": "0.4.17", "binary_error": "",
//	    "uptime": 86412, "records": 2311, "shunned": 0,
//	    "connected_peers": 41, "puts": 1877,
//	    "mem_mb": 212.4375, "cpu_percent": 0.8125,
//	    "open_connections": 43, "total_peers": 362, "bad_peers": 5,
//	    "rel_records": 1987, "max_records": 16384,
//	    "rewards": "1250000000000000",
//	    "payment_count": 9, "live_time": 86400, "network_size": 2064384
//	  }],
//	  "latest_version": "0.4.17",     // of Options.Latest (antnode_path)
//	  "latest_error": "",
//	  "errors": []                    // failed host readings
//	}
package survey

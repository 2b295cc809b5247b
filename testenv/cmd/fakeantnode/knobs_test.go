package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseKnobs(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    knobs
		wantErr string
	}{
		{name: "none"},
		{
			name: "all",
			env: map[string]string{
				"FAKEANTNODE_START_DELAY":        "2s",
				"FAKEANTNODE_HANG_METRICS":       "1",
				"FAKEANTNODE_GARBAGE_METRICS":    "true",
				"FAKEANTNODE_HTTP_STATUS":        "503",
				"FAKEANTNODE_CRASH_AFTER":        "0s",
				"FAKEANTNODE_CPU_BURN":           "1",
				"FAKEANTNODE_SELF_UPGRADE_AFTER": "3s",
				"FAKEANTNODE_UPGRADE_FROM":       "/new/antnode",
				"FAKEANTNODE_VERSION":            "9.9.9",
				"FAKEANTNODE_METRICS_FILE":       "/captures/metrics.txt",
			},
			want: knobs{
				StartDelay: 2 * time.Second, HangMetrics: true, GarbageMetrics: true, HTTPStatus: 503,
				Crash: true, CPUBurn: true, SelfUpgradeAfter: 3 * time.Second, UpgradeFrom: "/new/antnode",
				Version: "9.9.9", MetricsFile: "/captures/metrics.txt",
			},
		},
		{name: "off", env: map[string]string{"FAKEANTNODE_HANG_METRICS": "0"}},
		{name: "bad duration", env: map[string]string{"FAKEANTNODE_CRASH_AFTER": "soon"}, wantErr: `FAKEANTNODE_CRASH_AFTER="soon"`},
		{name: "negative duration", env: map[string]string{"FAKEANTNODE_START_DELAY": "-1s"}, wantErr: `FAKEANTNODE_START_DELAY="-1s"`},
		{name: "bad bool", env: map[string]string{"FAKEANTNODE_CPU_BURN": "yes"}, wantErr: `FAKEANTNODE_CPU_BURN="yes"`},
		{name: "bad status", env: map[string]string{"FAKEANTNODE_HTTP_STATUS": "999"}, wantErr: `FAKEANTNODE_HTTP_STATUS="999"`},
		{name: "upgrade without binary", env: map[string]string{"FAKEANTNODE_SELF_UPGRADE_AFTER": "1s"}, wantErr: "FAKEANTNODE_UPGRADE_FROM"},
		{name: "binary without upgrade", env: map[string]string{"FAKEANTNODE_UPGRADE_FROM": "/x"}, wantErr: "FAKEANTNODE_SELF_UPGRADE_AFTER"},
		{name: "relative metrics file", env: map[string]string{"FAKEANTNODE_METRICS_FILE": "m.txt"}, wantErr: `FAKEANTNODE_METRICS_FILE="m.txt"`},
		{name: "bad version", env: map[string]string{"FAKEANTNODE_VERSION": "1 0"}, wantErr: `FAKEANTNODE_VERSION="1 0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseKnobs(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseKnobs(%v) error = %v, want one containing %q", tt.env, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseKnobs(%v) error: %v", tt.env, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseKnobs(%v) mismatch (-want +got):\n%s", tt.env, diff)
			}
		})
	}
}

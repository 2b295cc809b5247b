package config

import "testing"

func TestMaxNodeID(t *testing.T) {
	tests := []struct {
		port, metrics, rpc int
		want               int
	}{
		{55, 13, 30, 10535}, // 55001+10535 = 65536 would be out of range
		{20, 13, 30, 6999},  // metrics 13001+7000 would be 20001, node 1's port
		{60, 62, 30, 1999},  // node 60001+2000 = 62001, node 1's metrics port
		{65, 13, 30, 535},   // the last valid port
		{55, 13, 13, 10535}, // equal starts are the validation's to reject
		{65, 64, 66, 1},     // no room at all still allows id 1's ports to be checked
	}
	for _, tt := range tests {
		c := Config{PortStart: tt.port, MetricsPortStart: tt.metrics, RPCPortStart: tt.rpc}
		if got := c.MaxNodeID(); got != tt.want {
			t.Errorf("MaxNodeID(%d, %d, %d) = %d, want %d", tt.port, tt.metrics, tt.rpc, got, tt.want)
		}
	}
}

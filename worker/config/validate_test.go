package config

import "testing"

func TestMaxNodeID(t *testing.T) {
	tests := []struct {
		port, metrics, rpc int
		want               int
	}{
		{55, 13, 30, 10535}, // 55001+10535 = 65536 would be out of range
		{20, 13, 30, 7000},  // metrics 13000+7001 would be 20001, node 1's port
		{60, 62, 30, 2000},  // node 60000+2001 = 62001 would be node 1's metrics port
		{20, 21, 22, 1000},  // node_cap 1,000 in adjacent thousands: validation accepts it
		{20, 22, 24, 2000},
		{65, 13, 30, 535},   // the last valid port
		{55, 13, 13, 10535}, // equal starts are the validation's to reject
		{65, 64, 66, 1},     // no room at all still allows id 1's ports to be checked
	}
	for _, tt := range tests {
		c := Config{PortStart: tt.port, MetricsPortStart: tt.metrics, RPCPortStart: tt.rpc}
		got := c.MaxNodeID()
		if got != tt.want {
			t.Errorf("MaxNodeID(%d, %d, %d) = %d, want %d", tt.port, tt.metrics, tt.rpc, got, tt.want)
		}
		// Every id up to the answer keeps its three ports distinct from every other id's.
		if got > 1 && got <= 10535 {
			used := map[int]int{}
			for id := 1; id <= got; id++ {
				for _, start := range []int{tt.port, tt.metrics, tt.rpc} {
					if tt.port == tt.metrics || tt.metrics == tt.rpc || tt.port == tt.rpc {
						continue
					}
					p := start*1000 + id
					if other, ok := used[p]; ok || p > 65535 {
						t.Errorf("MaxNodeID(%d, %d, %d) = %d: port %d of id %d is id %d's too, or out of range", tt.port, tt.metrics, tt.rpc, got, p, id, other)
					}
					used[p] = id
				}
			}
		}
	}
}

package fakeantnode_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wnm-project/wnm/testenv/fakeantnode"
)

// BenchmarkFleet1000 starts a 1,000-port fleet once and measures one sweep of GET /metrics over
// every port, 32 requests at a time. It reports how long the fleet took to become ready.
func BenchmarkFleet1000(b *testing.B) {
	const count, workers = 1000, 32
	bin := fakeantnode.Build(b)
	var p *proc
	var first int
	var ready time.Duration
	for attempt := 0; ; attempt++ {
		first = 20000 + rand.IntN(11000)
		begin := time.Now()
		p = start(b, bin, nil, "fleet", "--metrics-port-start", strconv.Itoa(first), "--count", strconv.Itoa(count))
		if p.waitReady(b) {
			ready = time.Since(begin)
			break
		}
		if attempt >= 5 || !strings.Contains(p.stderr.String(), "listen on port") {
			b.Fatalf("fleet did not start: stderr %q", p.stderr.String())
		}
	}
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxIdleConns: count},
	}
	sweep := func() error {
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1) - 1); i < count; i = int(next.Add(1) - 1) {
					resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", first+i))
					if err != nil {
						errs <- err
						return
					}
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err != nil || resp.StatusCode != 200 {
						errs <- fmt.Errorf("port %d: status %d, %w", first+i, resp.StatusCode, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	}
	b.ResetTimer()
	for b.Loop() {
		if err := sweep(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ready.Milliseconds()), "ready-ms")
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
}

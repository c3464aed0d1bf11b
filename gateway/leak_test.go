package gateway

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/recmesh/recmesh/pkg/resilience/resiliencetest"
)

// liveHeap is the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// settledGoroutines waits (up to 5 s) for the goroutine count to come down
// to at most want, and returns it.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(20 * time.Millisecond)
	}
	return n
}

// No leaks: after 100,000 requests and 50 open/close cycles of a breaker,
// the goroutines are back to their baseline (±5) and the live heap has not
// grown past hystrix-go's 60 s window of samples; after Close, goleak finds
// nothing but hystrix-go's two per-command monitors.
func TestNoLeaksUnderLoadAndBreakerCycles(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 requests")
	}
	// Registered first, so it runs last: after the gateway's Close.
	t.Cleanup(func() { goleak.VerifyNone(t, append(resiliencetest.LeakOptions(), goleak.IgnoreCurrent())...) })
	g, f := startWithConfig(t, func(c *Config) { c.BreakerSleep = 20 * time.Millisecond })
	ctx := context.Background()
	send := func(n int) {
		for i := range n {
			if _, err := g.Recommend(ctx, Query{UserID: "u" + string(rune('a'+i%26)), N: 10}); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(2000) // warm: pools, breakers' commands, caches
	baseline := runtime.NumGoroutine()
	heap0 := liveHeap()

	const cycles, perCycle = 50, 250
	sent, opened := 2000, 0
	for c := range cycles {
		f.setDown(HopRanking)
		// Failures until they are half of the 10 s window: the breaker opens.
		for i := 0; i < 20_000 && !g.breakers.ranking.Open(); i++ {
			send(1)
			sent++
		}
		if g.breakers.ranking.Open() {
			opened++
		}
		f.down.Delete(HopRanking)
		// After the sleep window a trial call goes through and closes it.
		for deadline := time.Now().Add(5 * time.Second); g.breakers.ranking.Open(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("cycle %d: the ranking breaker stayed open 5 s with ranking back", c)
			}
			send(1)
			sent++
		}
		send(perCycle)
		sent += perCycle
	}
	if sent < 100_000 {
		send(100_000 - sent)
	}

	if opened != cycles {
		t.Errorf("the breaker opened in %d of %d cycles", opened, cycles)
	}
	if n := settledGoroutines(baseline + 5); n > baseline+5 {
		t.Errorf("%d goroutines after the load, baseline %d", n, baseline)
	}
	// hystrix-go keeps every call's duration for 60 s, per command
	// (rolling.Timing, hystrix-go#111): a window, not a leak, but within
	// this test's few seconds it holds all 100,000 requests' samples of
	// each hop, about 6 MiB. Anything past 16 MiB is ours.
	if heap := liveHeap(); heap > heap0+16<<20 {
		t.Errorf("live heap grew from %d to %d bytes over 100,000 requests", heap0, heap)
	}
	t.Logf("goroutines %d (baseline %d), live heap %d KiB (after warm-up %d KiB)", runtime.NumGoroutine(), baseline, liveHeap()>>10, heap0>>10)
}

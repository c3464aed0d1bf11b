package main

// The chaos suite (make test-chaos, run by make test): the dev mode's
// separate processes on their own Consul, PostgreSQL, Redis and Jaeger
// (scripts/chaos.sh starts a private set, since the suite stops them),
// under steady load from recmesh bench's engine, while services are killed
// or paused and dependencies stopped. Each scenario prints its counts and
// asserts them exactly.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/load"
	"github.com/recmesh/recmesh/pkg/domain"
)

// chaosBudgets are the gateway's budgets in the suite: the defaults' shape,
// loose enough that a shared CI machine's noise does not degrade answers,
// tight enough that a hung hop shows.
var chaosBudgets = []string{"-budget-request", "1s", "-budget-features", "250ms", "-budget-recall", "400ms",
	"-budget-filter", "250ms", "-budget-ranking", "300ms", "-breaker-sleep", "1s"}

// chaosRate is the suite's steady load, requests per second (open loop).
// steadyRate is 60% of what the dev mode carries on the 2-core CI machine
// (about 250 requests/s closed loop at 20 connections).
const (
	chaosRate  = 25
	steadyRate = 150
)

func TestChaos(t *testing.T) {
	if os.Getenv("RECMESH_CHAOS") == "" {
		t.Skip("the chaos suite stops its dependencies; make test-chaos (scripts/chaos.sh) runs it on a private set")
	}
	c := &chaos{d: startDevMesh(t, chaosBudgets...), deps: os.Getenv("RECMESH_DEPS_DIR")}
	if c.deps == "" {
		t.Fatal("RECMESH_DEPS_DIR is not set: run the suite through scripts/chaos.sh")
	}
	for u := 1; u <= 610; u++ {
		c.users = append(c.users, strconv.Itoa(u))
	}
	t.Cleanup(func() { c.printTable(t) })

	t.Run("a minute at 60% from the moment the mesh is ready", c.fromTheStart)
	for _, svc := range []string{"features", "recall", "filter", "ranking", "experiment"} {
		t.Run("kill -9 "+svc, func(t *testing.T) { c.killService(t, svc) })
	}
	t.Run("stop Redis", c.stopRedis)
	t.Run("stop PostgreSQL", c.stopPostgres)
	t.Run("stop Consul", c.stopConsul)
	t.Run("pause ranking (SIGSTOP)", c.pauseRanking)
}

type chaos struct {
	d     *devMesh
	deps  string // the private dependencies' directory (pid files)
	users []string

	mu   sync.Mutex
	rows []chaosRow
}

// chaosRow is one scenario's counts, for the closing table.
type chaosRow struct {
	scenario                string
	sent, ok, errors        int
	degraded                map[string]int
	eventsAcked, rowsStored int
	p99                     float64
}

func (c *chaos) record(scenario string, r *load.Result, acked, stored int) {
	row := chaosRow{scenario: scenario, sent: r.Sent, ok: r.Codes["200"], errors: r.Errors(), degraded: r.Degraded,
		eventsAcked: acked, rowsStored: stored, p99: r.Latency.P99}
	c.mu.Lock()
	c.rows = append(c.rows, row)
	c.mu.Unlock()
}

func (c *chaos) printTable(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-26s %6s %6s %6s  %-32s %6s %6s %8s\n", "scenario", "sent", "200", "errors", "degraded by hop", "events", "rows", "p99 ms")
	for _, r := range c.rows {
		deg := "none"
		if len(r.degraded) > 0 {
			var parts []string
			for _, h := range slices.Sorted(maps.Keys(r.degraded)) {
				parts = append(parts, fmt.Sprintf("%s=%d", h, r.degraded[h]))
			}
			deg = strings.Join(parts, " ")
		}
		fmt.Fprintf(&b, "%-26s %6d %6d %6d  %-32s %6d %6d %8.1f\n", r.scenario, r.sent, r.ok, r.errors, deg, r.eventsAcked, r.rowsStored, r.p99)
	}
	t.Log("chaos table:" + b.String())
}

// run sends the steady load for dur while act runs (act gets a context
// that ends with the load), and returns what the load measured.
func (c *chaos) run(t *testing.T, dur time.Duration, rate float64, act func(ctx context.Context)) *load.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var wg sync.WaitGroup
	if act != nil {
		wg.Add(1)
		go func() { defer wg.Done(); act(ctx) }()
	}
	res, err := load.Run(ctx, load.Config{URL: c.d.gateway, Users: c.users, Connections: 50, Rate: rate,
		Duration: dur, N: 10, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return res
}

// after sleeps d unless ctx ends first; false when it ended.
func after(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// noErrors fails the test for any reply other than 200.
func noErrors(t *testing.T, r *load.Result) {
	t.Helper()
	if r.Sent == 0 || r.Errors() != 0 {
		t.Errorf("%d of %d recommendation requests were not answered 200: %v", r.Errors(), r.Sent, r.Codes)
	}
}

// fromTheStart loads the mesh from the moment it said ready (no warm-up
// of the test's own) at 60% of its capacity for a minute: a mesh that says
// ready serves whole answers, and keeps serving them.
func (c *chaos) fromTheStart(t *testing.T) {
	res := c.run(t, time.Minute, steadyRate, nil)
	c.record("from ready, 60%", res, 0, 0)
	noErrors(t, res)
	if res.DegradedShare >= 0.001 {
		t.Errorf("%.2f%% of the replies right after start were degraded (%v); want under 0.1%%", 100*res.DegradedShare, res.Degraded)
	}
}

// killService kills every instance of svc with SIGKILL under load, starts
// it again, and checks that only svc's hop degraded meanwhile and that
// nothing is degraded 10 s after the restart.
func (c *chaos) killService(t *testing.T, svc string) {
	res := c.run(t, 8*time.Second, chaosRate, func(ctx context.Context) {
		if !after(ctx, 2*time.Second) {
			return
		}
		c.d.kill(svc, syscall.SIGKILL)
		if !after(ctx, 3*time.Second) {
			return
		}
		c.d.restart(svc)
	})
	c.d.waitHealthy(t, svc, 1)
	time.Sleep(7 * time.Second) // 10 s after the restart
	later := c.run(t, 5*time.Second, chaosRate, nil)
	c.record("kill -9 "+svc, res, 0, 0)
	c.record("  10 s after its restart", later, 0, 0)
	noErrors(t, res)
	noErrors(t, later)
	for hop := range res.Degraded {
		if hop != svc {
			t.Errorf("with %s killed, replies were degraded on %s: %v", svc, hop, res.Degraded)
		}
	}
	if svc != "experiment" && res.Degraded[svc] == 0 {
		t.Errorf("no reply was degraded on %s while it was dead: the kill did not happen", svc)
	}
	if later.DegradedReplies != 0 {
		t.Errorf("10 s after %s restarted, %d replies were still degraded: %v", svc, later.DegradedReplies, later.Degraded)
	}
}

// outage runs the steady load, and ev's events when ev is not nil, for
// 10 s, with the dependency dep stopped from the 2nd second to the 6th.
func (c *chaos) outage(t *testing.T, dep string, ev *chaosEvents) *load.Result {
	t.Helper()
	res := c.run(t, 10*time.Second, chaosRate, func(ctx context.Context) {
		if ev != nil {
			go ev.send(ctx, c.d.gateway)
		}
		if !after(ctx, 2*time.Second) {
			return
		}
		c.stopDep(t, dep)
		if !after(ctx, 4*time.Second) {
			return
		}
		c.startDeps(t)
	})
	if ev != nil {
		ev.wait()
	}
	return res
}

// stopRedis kills Redis under load and events: recommendations stay whole
// (features answers from PostgreSQL), every event is accepted, and after
// Redis returns and replay runs, Redis holds what the log holds.
func (c *chaos) stopRedis(t *testing.T) {
	ev := c.events("redis")
	res := c.outage(t, "redis", ev)
	stored := ev.stored(t, c.d)
	c.record("stop Redis", res, ev.ackedCount(), stored)
	noErrors(t, res)
	if res.DegradedReplies != 0 {
		t.Errorf("%d replies degraded with Redis down, want 0 (features answers from PostgreSQL): %v", res.DegradedReplies, res.Degraded)
	}
	if ev.failedCount() != 0 || stored != ev.ackedCount() || stored == 0 {
		t.Errorf("events: %d acknowledged, %d refused, %d rows stored; want every one acknowledged and stored", ev.ackedCount(), ev.failedCount(), stored)
	}
	c.d.runCmd(t, "replay", "-realtime", c.d.realtime)
	ctx := context.Background()
	for _, user := range ev.userIDs() {
		var inLog int64
		if err := c.d.pg.QueryRow(ctx, `SELECT count(*) FROM events WHERE user_id = $1`, user).Scan(&inLog); err != nil {
			t.Fatal(err)
		}
		inRedis, err := c.d.rdb.Get(ctx, c.d.prefix+"count:"+user).Int64()
		if err != nil || inRedis != inLog {
			t.Errorf("after replay, Redis counts %d events of %s (%v), the log %d", inRedis, user, err, inLog)
		}
	}
}

// stopPostgres stops PostgreSQL under load and events: recommendations keep
// being answered, events get 503 unavailable with Retry-After, the rows
// stored are exactly the events acknowledged, and the refused batches,
// sent again once PostgreSQL is back, are stored once.
func (c *chaos) stopPostgres(t *testing.T) {
	ev := c.events("pg")
	res := c.outage(t, "postgres", ev)
	time.Sleep(2 * time.Second) // the pools reconnect
	stored := ev.stored(t, c.d)
	c.record("stop PostgreSQL", res, ev.ackedCount(), stored)
	noErrors(t, res)
	if ev.failedCount() == 0 {
		t.Error("no event batch was refused while PostgreSQL was down: the stop did not happen")
	}
	if ev.badRefusals > 0 {
		t.Errorf("%d refusals were not 503 unavailable with Retry-After", ev.badRefusals)
	}
	if stored != ev.ackedCount() {
		t.Errorf("PostgreSQL holds %d of the scenario's events, %d were acknowledged: want exactly those", stored, ev.ackedCount())
	}
	sent := ev.resend(t, c.d.gateway)
	if total := ev.stored(t, c.d); total != sent {
		t.Errorf("after sending the refused batches again, %d rows for %d distinct events", total, sent)
	}
}

// stopConsul kills the Consul agent (a -dev agent, which forgets its
// catalog) under load: the gateway keeps serving from the last good set;
// after Consul returns the instances register again, and a newly started
// instance is discovered and used.
func (c *chaos) stopConsul(t *testing.T) {
	res := c.outage(t, "consul", nil)
	c.record("stop Consul", res, 0, 0)
	noErrors(t, res)
	if res.DegradedReplies != 0 {
		t.Errorf("%d replies degraded with Consul down or restarting: %v", res.DegradedReplies, res.Degraded)
	}
	c.d.start(c.d.top, "filter-2", "filter", "-grpc-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0")
	entries := c.d.waitHealthyWithin(t, "filter", 2, 30*time.Second)
	var addrs []string
	for _, e := range entries {
		addrs = append(addrs, fmt.Sprintf("%s:%d", e.Service.Address, e.Service.Port))
	}
	later := c.run(t, 5*time.Second, chaosRate, nil)
	c.record("  new filter instance", later, 0, 0)
	noErrors(t, later)
	metrics := scrape(t, c.d.gateway+"/metrics")
	for _, a := range addrs {
		if !strings.Contains(metrics, fmt.Sprintf(`recmesh_hop_inflight{service="filter",target=%q}`, a)) {
			t.Errorf("the gateway has no connection to filter instance %s after Consul returned", a)
		}
	}
}

// pauseRanking stops the ranking process (SIGSTOP) so that it hangs rather
// than refuses: its breaker opens, the hop's budget bounds latency, and the
// p99 stays under the request budget; the replies are degraded on ranking
// only (or shed by the ladder, which sees the pile-up).
func (c *chaos) pauseRanking(t *testing.T) {
	res := c.run(t, 10*time.Second, 2*chaosRate, func(ctx context.Context) {
		if !after(ctx, 2*time.Second) {
			return
		}
		c.d.kill("ranking", syscall.SIGSTOP)
		after(ctx, 5*time.Second)
		c.d.kill("ranking", syscall.SIGCONT)
	})
	c.d.kill("ranking", syscall.SIGCONT)
	c.record("pause ranking", res, 0, 0)
	noErrors(t, res)
	if res.Latency.P99 >= 1000 {
		t.Errorf("p99 %.0f ms with ranking paused; the request budget is 1 s", res.Latency.P99)
	}
	// Requests that wait on a hung hop pile up, and the shedding ladder may
	// start to act (shed:ranking, shed:popular): that is its work.
	for hop := range res.Degraded {
		if hop != "ranking" && !strings.HasPrefix(hop, "shed:") {
			t.Errorf("with ranking paused, replies were degraded on %s: %v", hop, res.Degraded)
		}
	}
	metrics := scrape(t, c.d.gateway+"/metrics")
	if !strings.Contains(metrics, `recmesh_breaker_transitions_total{hop="ranking",state="open"}`) ||
		strings.Contains(metrics, `recmesh_breaker_transitions_total{hop="ranking",state="open"} 0`+"\n") {
		t.Error("the ranking breaker never opened while ranking hung")
	}
}

// kill sends sig to the named process.
func (d *devMesh) kill(name string, sig syscall.Signal) {
	p := d.procs[name]
	_ = p.cmd.Process.Signal(sig)
	if sig == syscall.SIGKILL {
		<-p.done
	}
}

// restart starts the named process again with its arguments; it lives as
// long as the test that started the mesh.
func (d *devMesh) restart(name string) { d.start(d.top, name, d.args[name]...) }

// waitHealthyWithin is waitHealthy with a longer wait.
func (d *devMesh) waitHealthyWithin(t *testing.T, service string, n int, within time.Duration) []*api.ServiceEntry {
	t.Helper()
	var entries []*api.ServiceEntry
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got, _, err := d.consul.Health().Service(service, "", true, nil); err == nil {
			if entries = got; len(entries) == n {
				return entries
			}
		}
	}
	t.Fatalf("%s: %d healthy instances in Consul after %v, want %d", service, len(entries), within, n)
	return nil
}

// stopDep kills one of the private dependencies: Redis and Consul with
// SIGKILL, PostgreSQL with an immediate shutdown of its postmaster.
func (c *chaos) stopDep(t *testing.T, name string) {
	pidFile := filepath.Join(c.deps, name+".pid")
	sig := syscall.SIGKILL
	if name == "postgres" {
		pidFile, sig = filepath.Join(c.deps, "pg", "postmaster.pid"), syscall.SIGQUIT
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Errorf("stop %s: %v", name, err)
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		t.Errorf("stop %s: pid file: %v", name, err)
		return
	}
	_ = syscall.Kill(pid, sig)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	t.Errorf("%s (pid %d) did not stop", name, pid)
}

// startDeps starts whatever of the private dependencies is not running.
func (c *chaos) startDeps(t *testing.T) {
	cmd := exec.Command("../../scripts/deps.sh", "up")
	cmd.Env = os.Environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("deps.sh up: %v\n%s", err, tail(string(out), 2000))
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(r.Body)
	return b.String()
}

// chaosEvents sends named event batches at a steady pace and keeps what
// was acknowledged and what was refused.
type chaosEvents struct {
	prefix string
	mu     sync.Mutex
	acked  [][]domain.Event
	failed [][]domain.Event
	// badRefusals counts refusals that were not 503 unavailable with Retry-After.
	badRefusals int
	done        chan struct{}
}

func (c *chaos) events(scenario string) *chaosEvents {
	return &chaosEvents{prefix: fmt.Sprintf("chaos-%s-%d-", scenario, time.Now().UnixNano()), done: make(chan struct{})}
}

// batch is the n-th batch: 5 clicks of one of 5 users, each with its own event id.
func (e *chaosEvents) batch(n int) []domain.Event {
	evs := make([]domain.Event, 5)
	for i := range evs {
		evs[i] = domain.Event{UserID: fmt.Sprintf("%su%d", e.prefix, n%5), ItemID: int64(1 + (n*5+i)%300), Type: "click",
			TS: time.Now().Unix(), EventID: fmt.Sprintf("%s%d-%d", e.prefix, n, i)}
	}
	return evs
}

// post sends one batch: 200, or the refusal's status, code and Retry-After.
func post(gatewayURL string, evs []domain.Event) (status int, code string, retryAfter bool) {
	body, _ := json.Marshal(map[string]any{"events": evs})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, gatewayURL+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "transport", false
	}
	defer r.Body.Close()
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.NewDecoder(r.Body).Decode(&e)
	return r.StatusCode, e.Error.Code, r.Header.Get("Retry-After") != ""
}

// send posts a batch every 100 ms until ctx ends.
func (e *chaosEvents) send(ctx context.Context, gatewayURL string) {
	defer close(e.done)
	for n := 0; ; n++ {
		evs := e.batch(n)
		status, code, retryAfter := post(gatewayURL, evs)
		e.mu.Lock()
		if status == http.StatusOK {
			e.acked = append(e.acked, evs)
		} else {
			e.failed = append(e.failed, evs)
			if status != http.StatusServiceUnavailable || code != "unavailable" || !retryAfter {
				e.badRefusals++
			}
		}
		e.mu.Unlock()
		if !after(ctx, 100*time.Millisecond) {
			return
		}
	}
}

func (e *chaosEvents) wait() { <-e.done }

func (e *chaosEvents) ackedCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return 5 * len(e.acked)
}

func (e *chaosEvents) failedCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return 5 * len(e.failed)
}

func (e *chaosEvents) userIDs() []string {
	out := make([]string, 5)
	for i := range out {
		out[i] = fmt.Sprintf("%su%d", e.prefix, i)
	}
	return out
}

// stored counts the scenario's rows in PostgreSQL, and fails the test if
// any event id is stored twice.
func (e *chaosEvents) stored(t *testing.T, d *devMesh) int {
	t.Helper()
	var rows, distinct int
	err := d.pg.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT client_event_id) FROM events WHERE client_event_id LIKE $1`,
		e.prefix+"%").Scan(&rows, &distinct)
	if err != nil {
		t.Fatalf("count the scenario's events: %v", err)
	}
	if rows != distinct {
		t.Errorf("%d rows for %d event ids: some event is stored twice", rows, distinct)
	}
	return rows
}

// resend posts the refused batches again, and the acknowledged ones once
// more (as a client that saw no answer would), until each is answered 200;
// it returns the number of distinct events sent.
func (e *chaosEvents) resend(t *testing.T, gatewayURL string) int {
	t.Helper()
	e.mu.Lock()
	all := append(slices.Clone(e.failed), e.acked...)
	e.mu.Unlock()
	for _, evs := range all {
		ok := false
		for try := 0; try < 20 && !ok; try++ {
			status, _, _ := post(gatewayURL, evs)
			ok = status == http.StatusOK
			if !ok {
				time.Sleep(500 * time.Millisecond)
			}
		}
		if !ok {
			t.Fatalf("a batch was still refused 10 s after PostgreSQL returned")
		}
	}
	return 5 * len(all)
}

package main

// The dev mode against real Consul, PostgreSQL, Redis and Jaeger: every
// service and the gateway run as their own recmesh processes, exactly as
// `make dev` starts them. make test starts the dependencies on test ports
// (see depstest); without them these tests skip, or fail in CI.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/gateway"
	"github.com/recmesh/recmesh/pkg/depstest"
	"github.com/recmesh/recmesh/pkg/pgtest"
)

const devToken = "it-token"

// devMesh is a dev-mode mesh of separate processes.
type devMesh struct {
	bin, dir  string
	env       []string
	dsn       string
	prefix    string
	realtime  string // the features -realtime URL, under prefix
	gateway   string
	adminBase string // experiment admin base URL
	consul    *api.Client
	rdb       *redis.Client
	pg        *pgxpool.Pool
	models    string
	// procs and args are the running process and the arguments of each
	// named process, so a chaos test can kill and start it again; top is
	// the test that owns them (a restarted process lives as long as it).
	procs map[string]*proc
	args  map[string][]string
	top   *testing.T
}

// proc is one started recmesh process.
type proc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs `recmesh args...`; the process gets SIGTERM when the test ends.
func (d *devMesh) start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{log: filepath.Join(d.dir, name+".log"), done: make(chan struct{})}
	out, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(d.bin, args...)
	p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = d.env, out, out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if d.procs == nil {
		d.procs, d.args = map[string]*proc{}, map[string][]string{}
	}
	d.procs[name], d.args[name] = p, args
	go func() {
		_ = p.cmd.Wait()
		out.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("--- %s log (tail):\n%s", name, tail(string(b), 1500))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// runCmd runs a recmesh command to completion.
func (d *devMesh) runCmd(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(d.bin, args...)
	cmd.Env = d.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("recmesh %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 2000))
	}
	return string(out)
}

// startDevMesh builds recmesh, trains a model, imports the sample into a
// schema of the test's own, and starts every service and the gateway;
// gatewayArgs are appended to the gateway's (a later flag wins).
func startDevMesh(t *testing.T, gatewayArgs ...string) *devMesh {
	consulAddr := depstest.Env(t, "RECMESH_CONSUL_ADDR")
	redisAddr := depstest.Env(t, "RECMESH_REDIS_ADDR")
	depstest.Env(t, "RECMESH_OTLP_ENDPOINT")
	d := &devMesh{dir: t.TempDir(), dsn: pgtest.DSN(t), prefix: fmt.Sprintf("it%d:", time.Now().UnixNano()), top: t}
	d.bin = filepath.Join(d.dir, "recmesh")
	if out, err := exec.Command("go", "build", "-o", d.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	d.realtime = "redis://" + redisAddr + "/0?prefix=" + d.prefix
	d.env = append(os.Environ(), "RECMESH_STORE="+d.dsn, "RECMESH_CHECK_INTERVAL=1s", "RECMESH_LOG_LEVEL=info")
	data := "../../data/movielens-small"
	models := filepath.Join(d.dir, "models")
	d.models = models
	// The one job a fresh deployment runs: migrate, import, replay, train.
	d.runCmd(t, "init", "-data", data, "-realtime", d.realtime, "-model-dir", models)

	cfg := api.DefaultConfig()
	cfg.Address = consulAddr
	var err error
	if d.consul, err = api.NewClient(cfg); err != nil {
		t.Fatal(err)
	}
	d.rdb = redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() {
		keys, _ := d.rdb.Keys(context.Background(), d.prefix+"*").Result()
		if len(keys) > 0 {
			d.rdb.Del(context.Background(), keys...)
		}
		d.rdb.Close()
	})
	if d.pg, err = pgxpool.New(context.Background(), d.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.pg.Close)

	node := func(service string, extra ...string) {
		args := append([]string{service, "-grpc-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0"}, extra...)
		d.start(t, service, args...)
	}
	node("features", "-realtime", d.realtime)
	node("recall", "-model-dir", models)
	node("filter")
	node("ranking", "-model-dir", models)
	adminAddr := freeAddr(t)
	d.adminBase = "http://" + adminAddr
	d.start(t, "experiment", "experiment", "-grpc-addr", "127.0.0.1:0", "-admin-addr", adminAddr,
		"-admin-token", devToken, "-experiments", "../../config/experiments.json", "-store-poll", "200ms")
	d.gateway = "http://" + freeAddr(t)
	// Generous budgets, as in the embedded end-to-end tests: CI machines are
	// shared, and a timeout would turn a correctness check into a degraded
	// answer or a refused event batch.
	d.start(t, "gateway", append([]string{"gateway", "-http-addr", strings.TrimPrefix(d.gateway, "http://"), "-config-poll", "200ms",
		"-budget-request", "5s", "-budget-features", "1s", "-budget-recall", "2s", "-budget-filter", "1s", "-budget-ranking", "2s"}, gatewayArgs...)...)
	d.waitReady(t)
	return d
}

func (d *devMesh) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get(d.gateway + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				if rep, status := d.recommend("1"); status == http.StatusOK && len(rep.Degraded) == 0 && len(rep.Items) > 0 {
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("the dev mesh did not become ready with an undegraded answer in 60 s")
}

func (d *devMesh) recommend(user string) (gateway.Reply, int) {
	r, err := http.Get(d.gateway + "/v1/recommendations?n=10&user_id=" + url.QueryEscape(user))
	if err != nil {
		return gateway.Reply{}, 0
	}
	defer r.Body.Close()
	var rep gateway.Reply
	_ = json.NewDecoder(r.Body).Decode(&rep)
	return rep, r.StatusCode
}

// healthy lists the passing instances of service in Consul.
func (d *devMesh) healthy(t *testing.T, service string) []*api.ServiceEntry {
	t.Helper()
	entries, _, err := d.consul.Health().Service(service, "", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// waitHealthy waits until service has n healthy instances: a check that
// failed before the instance was ready passes again on its next run.
func (d *devMesh) waitHealthy(t *testing.T, service string, n int) []*api.ServiceEntry {
	t.Helper()
	var entries []*api.ServiceEntry
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if entries = d.healthy(t, service); len(entries) == n {
			return entries
		}
	}
	t.Fatalf("%s: %d healthy instances in Consul, want %d", service, len(entries), n)
	return nil
}

func TestDevModeConsulPostgresRedisJaeger(t *testing.T) {
	d := startDevMesh(t)

	t.Run("every service is in the Consul catalog with its version tag", func(t *testing.T) {
		for _, s := range []string{"features", "recall", "filter", "ranking", "experiment"} {
			entries := d.healthy(t, s)
			if len(entries) != 1 || !slices.Contains(entries[0].Service.Tags, "version=v1") || entries[0].Service.Meta["admin"] == "" {
				t.Errorf("%s in Consul: %d healthy instances %+v", s, len(entries), entries)
			}
		}
	})

	t.Run("the gateway is in Consul, checked over HTTP", func(t *testing.T) {
		entries := d.waitHealthy(t, "gateway", 1)
		if len(entries[0].Checks) < 2 || entries[0].Service.Meta["admin"] == "" {
			t.Fatalf("gateway in Consul: %+v", entries)
		}
		for _, c := range entries[0].Checks {
			if c.ServiceID != "" && c.Type != "http" {
				t.Errorf("gateway check %s is %s, want http", c.CheckID, c.Type)
			}
		}
	})
	t.Run("Prometheus finds every instance through Consul", func(t *testing.T) { d.checkPrometheus(t) })
	t.Run("SIGTERM deregisters from the catalog", func(t *testing.T) { d.checkSIGTERM(t) })
	t.Run("one trace in Jaeger spans every service", func(t *testing.T) { d.checkJaeger(t) })
	t.Run("every accepted event is in PostgreSQL and replay equals live Redis", func(t *testing.T) { d.checkDurability(t) })
	t.Run("a PUT item is served by the fresh channel within seconds, a DELETE retires it", func(t *testing.T) { d.checkCatalogue(t) })
	t.Run("erasing a user leaves nothing of theirs in PostgreSQL or Redis", func(t *testing.T) { d.checkErasure(t) })
	t.Run("an admin change reaches the gateway and moves only moved buckets", func(t *testing.T) { d.checkExperimentChange(t) })
	t.Run("a killed instance leaves rotation while requests keep succeeding", func(t *testing.T) { d.checkKilledInstance(t) })
	t.Run("a variant routed to ranking v2 is served by v2 only, and degrades alone without it", func(t *testing.T) { d.checkVersionRouting(t) })
}

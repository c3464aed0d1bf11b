package main

// Dev-mode checks of the control path: experiment changes through the
// admin API, instances dying and leaving.

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/recmesh/recmesh/gateway"
	"github.com/recmesh/recmesh/pkg/abtest"
)

// admin sends a request to the experiment service's admin API.
func (d *devMesh) admin(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, d.adminBase+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(r.Body)
	return r.StatusCode, buf.String()
}

func recallVariant(rep gateway.Reply) string {
	for _, a := range rep.Experiments {
		if a.Layer == "recall" {
			return a.Experiment + "/" + a.Variant
		}
	}
	return ""
}

func (d *devMesh) checkExperimentChange(t *testing.T) {
	if status, body := d.admin(t, "GET", "/admin/v1/config", "", ""); status != http.StatusUnauthorized {
		t.Errorf("admin API without a token: %d %s", status, body)
	}
	const salt = "recall-2026-11" // config/experiments.json: more-cf owns [1000,2000), [2000,10000) is free
	users := make([]string, 400)
	before := map[string]string{}
	probe := ""
	for i := range users {
		users[i] = fmt.Sprint("exp-", i)
		rep, status := d.recommend(users[i])
		if status != http.StatusOK {
			t.Fatalf("recommend %s: %d", users[i], status)
		}
		before[users[i]] = recallVariant(rep)
		if b := abtest.Bucket(salt, users[i]); probe == "" && b >= 2000 && b < 4000 {
			probe = users[i]
		}
	}
	status, body := d.admin(t, "PATCH", "/admin/v1/layers/recall/experiments/cf-quota/variants/more-cf", devToken, `{"size":3000}`)
	if status != http.StatusOK {
		t.Fatalf("grow more-cf: %d %s", status, body)
	}
	changed := time.Now()
	for {
		rep, _ := d.recommend(probe)
		if recallVariant(rep) == "cf-quota/more-cf" {
			break
		}
		if time.Since(changed) > 15*time.Second {
			t.Fatalf("user %s (bucket %d) still not in more-cf 15 s after the change", probe, abtest.Bucket(salt, probe))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the change reached the gateway in %s", time.Since(changed).Round(time.Millisecond))
	moved, kept := 0, 0
	for _, u := range users {
		rep, _ := d.recommend(u)
		b := abtest.Bucket(salt, u)
		inGrowth := b >= 2000 && b < 4000
		switch now := recallVariant(rep); {
		case inGrowth && now != "cf-quota/more-cf":
			t.Errorf("user %s (bucket %d, newly allocated) is in %q", u, b, now)
		case !inGrowth && now != before[u]:
			t.Errorf("user %s (bucket %d, not moved) changed from %q to %q", u, b, before[u], now)
		case inGrowth:
			moved++
		default:
			kept++
		}
	}
	t.Logf("%d users whose bucket was allocated moved to more-cf; %d others kept their variant", moved, kept)
	if status, body := d.admin(t, "GET", "/admin/v1/audit?limit=1", devToken, ""); status != http.StatusOK || !strings.Contains(body, `"update_variant"`) {
		t.Errorf("audit: %d %s", status, body)
	}
}

func (d *devMesh) checkKilledInstance(t *testing.T) {
	second := d.start(t, "recall-2", "recall", "-grpc-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0",
		"-model-dir", d.dir+"/models", "-version", "v1")
	deadline := time.Now().Add(20 * time.Second)
	for len(d.healthy(t, "recall")) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the second recall instance never became healthy")
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop := make(chan struct{})
	var total, failed, degraded int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for u := 1; ; u++ {
			select {
			case <-stop:
				return
			default:
			}
			rep, status := d.recommend(fmt.Sprint(1 + u%610))
			total++
			if status != http.StatusOK {
				failed++
			} else if slices.Contains(rep.Degraded, "recall") {
				degraded++
			}
		}
	}()
	time.Sleep(time.Second)
	if err := second.cmd.Process.Signal(os.Kill); err != nil { // a crash: no deregistration
		t.Fatal(err)
	}
	killed := time.Now()
	for len(d.healthy(t, "recall")) != 1 {
		if time.Since(killed) > 20*time.Second {
			t.Fatal("the killed instance is still healthy in Consul after 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	left := time.Since(killed)
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	t.Logf("killed recall instance left the healthy set after %s (check interval 1s); %d requests meanwhile: %d failed, %d degraded on recall",
		left.Round(10*time.Millisecond), total, failed, degraded)
	if failed != 0 || total == 0 {
		t.Errorf("%d of %d requests failed while an instance died", failed, total)
	}
}

func (d *devMesh) checkSIGTERM(t *testing.T) {
	catalog := func() int {
		entries, _, err := d.consul.Catalog().Service("filter", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	extra := d.start(t, "filter-2", "filter", "-grpc-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0")
	for deadline := time.Now().Add(20 * time.Second); catalog() != 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second filter instance never registered")
		}
	}
	if err := extra.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-extra.done:
	case <-time.After(15 * time.Second):
		t.Fatal("filter did not exit 15 s after SIGTERM")
	}
	if n := catalog(); n != 1 {
		t.Errorf("after SIGTERM the catalog holds %d filter instances, want 1 (deregistered before exit)", n)
	}
	if code := extra.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("filter exited with %d after SIGTERM, want 0", code)
	}
}

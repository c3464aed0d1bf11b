package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/mesh"
	"github.com/recmesh/recmesh/gateway"
	"github.com/recmesh/recmesh/pkg/config"
	"github.com/recmesh/recmesh/pkg/depstest"
	"github.com/recmesh/recmesh/services/experiment"
)

const (
	dataDir = "../../../../data/movielens-small"
	token   = "browser-token"
)

func startMesh(t *testing.T) *mesh.Mesh {
	t.Helper()
	dir := t.TempDir()
	comps := mesh.Components()
	f := config.NewFlags("browser")
	for _, c := range comps {
		c.Bind(f)
	}
	if err := f.Parse([]string{"-store", "memory:", "-data", dataDir, "-model-dir", dir + "/models",
		"-experiments", "../../../../config/experiments.json", "-admin-token", token, "-results-refresh", "1s"}); err != nil {
		t.Fatal(err)
	}
	g := mesh.DefaultGatewayConfig()
	g.REST.Addr = "127.0.0.1:0"
	g.ConfigPoll, g.ConfigWait = 100*time.Millisecond, 2*time.Second
	g.Budgets = gateway.Budgets{Request: 5 * time.Second, Features: time.Second, Recall: 2 * time.Second, Filter: time.Second, Ranking: 2 * time.Second, Write: 5 * time.Second}
	m, err := mesh.Start(context.Background(), mesh.Options{Components: comps, DataDir: dataDir, ModelDir: dir + "/models",
		Instance: "browser", Gateway: g, Log: io.Discard, LogLevel: slog.LevelError})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.Stop(ctx)
	})
	return m
}

// chrome starts headless Chromium with a fresh profile.
func chrome(t *testing.T) context.Context {
	t.Helper()
	exec := depstest.Env(t, "RECMESH_CHROMIUM")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exec), chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	return ctx
}

// do runs one step's actions; a failure shows the page.
func do(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
		t.Fatalf("%s: %v\npage: %.2000s", step, err, html)
	}
}

// waitText waits until the element sel matches shows want (a form posts
// and the page that follows replaces the one the element was on).
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	got := ""
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel))); err == nil {
			if got = strings.TrimSpace(s); got == want {
				return
			}
		}
	}
	t.Fatalf("%s shows %q, want %q", sel, got, want)
}

// text is the text of the element sel matches.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func results(t *testing.T, m *mesh.Mesh, layer, exp string) experiment.Results {
	t.Helper()
	req, _ := http.NewRequest("GET", m.AdminURL("experiment")+"/admin/v1/layers/"+layer+"/experiments/"+exp+"/results", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r experiment.Results
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestConsoleCreateRampAndReadResults signs in, creates an experiment,
// ramps one variant, sends traffic and clicks through the gateway, and
// reads the experiment's results page, which must show the numbers the
// results API gives.
func TestConsoleCreateRampAndReadResults(t *testing.T) {
	ctx := chrome(t)
	m := startMesh(t)
	console := m.AdminURL("experiment") + "/console/"

	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	do(t, ctx, "sign in",
		chromedp.Navigate(console),
		chromedp.WaitVisible(id("token")),
		chromedp.SendKeys(id("token"), token),
		chromedp.Click(id("signin")),
		chromedp.WaitVisible(id("layer-recall")))

	do(t, ctx, "create an experiment",
		chromedp.Click(id("new-recall")),
		chromedp.WaitVisible(id("create-name-recall")),
		chromedp.SendKeys(id("create-name-recall"), "ui-test"),
		chromedp.SendKeys(id("create-traffic-recall"), "2000"),
		chromedp.SendKeys(id("create-variants-recall"), "control:50, treatment:50"),
		chromedp.SendKeys(id("create-params-recall"), `{"recall_quotas":{"item_cf":450,"genre":50}}`),
		chromedp.Click(id("create-button-recall")),
		chromedp.WaitVisible(id("size-recall-ui-test-control")))
	if size := text(t, ctx, "#size-recall-ui-test-control"); size != "1000" {
		t.Fatalf("control has %q buckets after the create, want 1000", size)
	}
	do(t, ctx, "ramp the control",
		chromedp.SendKeys(id("ramp-recall-ui-test-control"), "1500"),
		chromedp.Click(id("ramp-button-recall-ui-test-control")))
	waitText(t, ctx, "#size-recall-ui-test-control", "1500")

	// Traffic: every user in the experiment clicks the top item of its list.
	for m.Gateway().ConfigVersion() < 3 { // seed, create, ramp
		time.Sleep(20 * time.Millisecond)
	}
	in := 0
	var events []string
	for u := 1; u <= 610 && in < 60; u++ {
		resp, err := http.Get(fmt.Sprintf("%s/v1/recommendations?n=10&user_id=%d", m.URL(), u))
		if err != nil {
			t.Fatal(err)
		}
		var rep gateway.Reply
		_ = json.NewDecoder(resp.Body).Decode(&rep)
		resp.Body.Close()
		for _, a := range rep.Experiments {
			if a.Experiment == "ui-test" && len(rep.Items) > 0 {
				in++
				events = append(events, fmt.Sprintf(`{"user_id":"%d","item_id":%d,"type":"click","request_id":%q}`, u, rep.Items[0].ItemID, rep.RequestID))
			}
		}
	}
	resp, err := http.Post(m.URL()+"/v1/events", "application/json", strings.NewReader(`{"events":[`+strings.Join(events, ",")+`]}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	var want experiment.Results
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		want = results(t, m, "recall", "ui-test")
		users := int64(0)
		for _, v := range want.Variants {
			users += v.Users
		}
		if users == int64(in) || time.Now().After(deadline) {
			break
		}
	}

	do(t, ctx, "open the results",
		chromedp.Click(id("results-recall-ui-test")),
		chromedp.WaitVisible(id("variants")))
	users, exposures := text(t, ctx, "#variant-control .users"), text(t, ctx, "#variant-control .exposures")
	clicks, ctr, srm := text(t, ctx, "#variant-control .clicks"), text(t, ctx, "#variant-control .ctr"), text(t, ctx, "#srm")
	c := want.Variants[0]
	if c.Name != "control" || users != strconv.FormatInt(c.Users, 10) || exposures != strconv.FormatInt(c.Exposures, 10) ||
		clicks != strconv.FormatInt(c.Clicks, 10) || ctr != fmt.Sprintf("%.4f", float64(c.CTR)) || c.Clicks != c.Users {
		t.Errorf("the page shows users %s exposures %s clicks %s ctr %s; the API %+v", users, exposures, clicks, ctr, c)
	}
	if !strings.Contains(srm, "Sample ratio") {
		t.Errorf("no SRM line: %q", srm)
	}
	t.Logf("%d users in ui-test; control: %s users, %s exposures, %s clicks, CTR %s; %s", in, users, exposures, clicks, ctr, srm)
	if c.Clicks == 0 {
		t.Error("no click reached the results")
	}
	if os.Getenv("RECMESH_CONSOLE_SCREENSHOT") != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		_ = os.WriteFile(os.Getenv("RECMESH_CONSOLE_SCREENSHOT"), png, 0o644)
	}
}

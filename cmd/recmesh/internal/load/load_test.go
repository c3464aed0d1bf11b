package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// server answers user 1 with 503, user 2 with a reply degraded on ranking,
// user 3 with a short page (one item), and everyone else whole; it counts
// what it answered.
type server struct {
	mu    sync.Mutex
	by    map[string]int
	sleep time.Duration
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(s.sleep)
	u := r.URL.Query().Get("user_id")
	s.mu.Lock()
	s.by[u]++
	s.mu.Unlock()
	switch u {
	case "1":
		http.Error(w, `{"error":{"code":"unavailable"}}`, http.StatusServiceUnavailable)
	case "2":
		_ = json.NewEncoder(w).Encode(map[string]any{"degraded": []string{"ranking"}, "items": []any{}})
	case "3":
		_ = json.NewEncoder(w).Encode(map[string]any{"degraded": []string{}, "items": []any{map[string]any{"item_id": 1}}})
	default:
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		_ = json.NewEncoder(w).Encode(map[string]any{"degraded": []string{}, "items": make([]map[string]any, n)})
	}
}

func TestClosedLoopCountsEveryAnswer(t *testing.T) {
	s := &server{by: map[string]int{}}
	ts := httptest.NewServer(s)
	defer ts.Close()
	res, err := Run(context.Background(), Config{URL: ts.URL, Users: []string{"1", "2", "3", "4"},
		Connections: 4, Requests: 300, N: 10, Timeout: 5 * time.Second, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 300 {
		t.Fatalf("sent %d, want 300", res.Sent)
	}
	if res.Codes["503"] != s.by["1"] || res.Degraded["ranking"] != s.by["2"] || res.DegradedReplies != s.by["2"] {
		t.Errorf("codes %v degraded %v, server saw %v", res.Codes, res.Degraded, s.by)
	}
	if res.Codes["200"] != s.by["2"]+s.by["3"]+s.by["4"] || res.Errors() != s.by["1"] {
		t.Errorf("200s %d, errors %d, server saw %v", res.Codes["200"], res.Errors(), s.by)
	}
	if s.by["1"] == 0 || s.by["3"] == 0 {
		t.Errorf("users not picked at random: %v", s.by)
	}
	if res.ShortReplies != s.by["3"] || math.Round(res.Goodput*res.Seconds) != float64(s.by["4"]) {
		t.Errorf("short %d, goodput %v over %vs; server saw %v: only user 4's replies are whole", res.ShortReplies, res.Goodput, res.Seconds, s.by)
	}
	want := float64(s.by["2"]) / float64(res.Codes["200"])
	if res.DegradedShare != want {
		t.Errorf("degraded share %v, want %v", res.DegradedShare, want)
	}
	var text bytes.Buffer
	res.WriteText(&text)
	if !strings.Contains(text.String(), "503=") || !strings.Contains(text.String(), "ranking=") {
		t.Errorf("table lacks codes or hops:\n%s", text.String())
	}
}

// An open loop measures from the scheduled start: when the server cannot
// keep up, waiting for a free connection shows in the latency.
func TestOpenLoopDoesNotHideQueueing(t *testing.T) {
	s := &server{by: map[string]int{}, sleep: 50 * time.Millisecond}
	ts := httptest.NewServer(s)
	defer ts.Close()
	// 100 requests scheduled over 0.5 s; two connections serve 40 a second,
	// so the last one starts about 2 s late.
	res, err := Run(context.Background(), Config{URL: ts.URL, Users: []string{"3"},
		Connections: 2, Rate: 200, Requests: 100, N: 10, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 100 || res.Codes["200"] != 100 || res.Mode != "open" {
		t.Fatalf("sent %d codes %v mode %s", res.Sent, res.Codes, res.Mode)
	}
	if res.Latency.Max < 1500 || res.Latency.P50 < 500 {
		t.Errorf("latency %+v: the queueing is hidden (a closed loop would show about 50 ms)", res.Latency)
	}
	if res.Latency.P99 > res.Latency.Max || res.Latency.P50 > res.Latency.P99 {
		t.Errorf("percentiles out of order: %+v", res.Latency)
	}
}

func TestTimeoutsAndDeadServers(t *testing.T) {
	s := &server{by: map[string]int{}, sleep: 300 * time.Millisecond}
	ts := httptest.NewServer(s)
	res, err := Run(context.Background(), Config{URL: ts.URL, Users: []string{"3"},
		Connections: 2, Requests: 4, N: 10, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Codes["timeout"] != 4 || res.Throughput != 0 {
		t.Errorf("codes %v throughput %v, want 4 timeouts and none answered", res.Codes, res.Throughput)
	}
	ts.Close()
	res, err = Run(context.Background(), Config{URL: ts.URL, Users: []string{"3"},
		Connections: 1, Requests: 3, N: 10, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Codes["transport"] != 3 {
		t.Errorf("codes %v, want 3 transport errors", res.Codes)
	}
}

func TestDurationEndsTheRun(t *testing.T) {
	ts := httptest.NewServer(&server{by: map[string]int{}})
	defer ts.Close()
	res, err := Run(context.Background(), Config{URL: ts.URL, Users: []string{"3"},
		Connections: 2, Duration: 300 * time.Millisecond, N: 10, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent == 0 || res.Codes["200"] != res.Sent {
		t.Errorf("sent %d codes %v", res.Sent, res.Codes)
	}
}

func TestConfigIsChecked(t *testing.T) {
	ok := Config{URL: "http://x", Users: []string{"1"}, Connections: 1, Requests: 1, N: 1, Timeout: time.Second}
	for name, mut := range map[string]func(*Config){
		"no url": func(c *Config) { c.URL = "" }, "no users": func(c *Config) { c.Users = nil },
		"no connections": func(c *Config) { c.Connections = 0 }, "negative rate": func(c *Config) { c.Rate = -1 },
		"no end": func(c *Config) { c.Requests = 0 }, "no n": func(c *Config) { c.N = 0 },
		"no timeout": func(c *Config) { c.Timeout = 0 },
	} {
		c := ok
		mut(&c)
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseUsers(t *testing.T) {
	files := map[string]string{
		"ratings.csv": "userId,movieId,rating,timestamp\n1,31,2.5,1\n1,1029,3,2\n7,10,4,3\n",
		"ids.txt":     "# users\n5\n\n6\n5\n",
		"empty.txt":   "userId\n",
	}
	open := func(p string) (io.ReadCloser, error) {
		s, ok := files[p]
		if !ok {
			return nil, errors.New("no such file")
		}
		return io.NopCloser(strings.NewReader(s)), nil
	}
	for _, tt := range []struct {
		spec string
		want []string
		bad  bool
	}{
		{spec: "3-5", want: []string{"3", "4", "5"}},
		{spec: "9,2,9", want: []string{"9", "2"}},
		{spec: "ratings.csv", want: []string{"1", "7"}},
		{spec: "ids.txt", want: []string{"5", "6"}},
		{spec: "5-3", bad: true},
		{spec: "empty.txt", bad: true},
		{spec: "missing.txt", bad: true},
	} {
		got, err := ParseUsers(tt.spec, open)
		if (err != nil) != tt.bad || !slices.Equal(got, tt.want) {
			t.Errorf("ParseUsers(%q) = %v, %v", tt.spec, got, err)
		}
	}
}

func TestSVGPlotsEverySeries(t *testing.T) {
	r := newResult(Config{Connections: 1})
	for i := 1; i <= 100; i++ {
		r.add(outcome{latency: time.Duration(i) * time.Millisecond, code: "200"})
	}
	r.finish(time.Second)
	var b bytes.Buffer
	if err := WriteSVG(&b, Series{"embedded", r}, Series{"dev <mode>", r}); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if strings.Count(s, "<polyline") != 2 || !strings.Contains(s, "dev &lt;mode&gt;") || !strings.HasSuffix(s, "</svg>\n") {
		t.Errorf("svg:\n%s", s)
	}
	if r.Latency.P50 < 49 || r.Latency.P50 > 51 || r.Latency.Max < 99.9 {
		t.Errorf("latency %+v from 1..100 ms", r.Latency)
	}
}

func TestTableRowPerLevel(t *testing.T) {
	run := func(conns int, ms time.Duration) *Result {
		r := newResult(Config{Connections: conns})
		for range 100 {
			r.add(outcome{latency: ms, code: "200"})
		}
		r.finish(time.Second)
		return r
	}
	var b bytes.Buffer
	WriteTable(&b, [][2]Series{
		{{"embedded", run(5, 10*time.Millisecond)}, {"dev", run(5, 20*time.Millisecond)}},
		{{"embedded", run(50, 10*time.Millisecond)}, {"dev", run(50, 13*time.Millisecond)}},
	})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "dev against embedded") {
		t.Fatalf("table:\n%s", b.String())
	}
	if !strings.HasPrefix(lines[2], "5 conns") || !strings.Contains(lines[2], "2.00×") || !strings.HasPrefix(lines[3], "50 conns") || !strings.Contains(lines[3], "1.30×") {
		t.Errorf("rows:\n%s", b.String())
	}
}

// Package load drives the gateway with recommendation requests and measures
// what comes back: throughput, latency percentiles from an HDR histogram,
// errors by code, and the share of replies degraded, by hop. It is the engine
// of `recmesh bench`, and of the chaos and overload tests.
//
// Two loops:
//   - closed: Connections workers, each sending its next request when the
//     last one answered (throughput is what the server gives);
//   - open: requests start on a fixed schedule (Rate per second), whatever the
//     server does. Latency is measured from the scheduled start, so time spent
//     waiting for a free connection counts: coordinated omission does not hide
//     queueing.
package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one load run.
type Config struct {
	URL         string        // gateway base URL, e.g. http://127.0.0.1:8080
	Users       []string      // user ids, one picked at random per request
	Connections int           // closed loop: workers; open loop: most requests in flight
	Rate        float64       // requests per second; 0 means closed loop
	Duration    time.Duration // how long to send; 0 with Requests > 0 means until Requests
	Requests    int           // stop after this many; 0 means no limit
	N           int           // items per request
	Timeout     time.Duration // per request
	Seed        uint64        // user choice; 0 picks one from the clock
	// Header is added to every request (an API key, for example).
	Header http.Header
	// Progress, when set, gets one line per second.
	Progress io.Writer
}

// Validate reports the first thing wrong with the config.
func (c *Config) Validate() error {
	switch {
	case c.URL == "":
		return errors.New("load: a gateway URL is required")
	case len(c.Users) == 0:
		return errors.New("load: no users")
	case c.Connections < 1:
		return errors.New("load: connections must be at least 1")
	case c.Rate < 0:
		return errors.New("load: rate must not be negative")
	case c.Duration <= 0 && c.Requests <= 0:
		return errors.New("load: set a duration or a request count")
	case c.N < 1:
		return errors.New("load: n must be at least 1")
	case c.Timeout <= 0:
		return errors.New("load: timeout must be positive")
	}
	if _, err := url.Parse(c.URL); err != nil {
		return fmt.Errorf("load: url: %w", err)
	}
	return nil
}

// outcome is one request's result.
type outcome struct {
	latency  time.Duration
	code     string // "200", "503", "timeout", "transport", …
	degraded []string
	items    int // items in a 200 reply
}

// Run sends the load and returns what it measured. It stops early, with what
// it has, when ctx ends.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	client := &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: cfg.Timeout}).DialContext,
			MaxIdleConns:        cfg.Connections,
			MaxIdleConnsPerHost: cfg.Connections,
			MaxConnsPerHost:     cfg.Connections,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	defer client.CloseIdleConnections()

	res := newResult(cfg)
	var mu sync.Mutex
	record := func(o outcome) {
		mu.Lock()
		res.add(o)
		mu.Unlock()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Duration > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, cfg.Duration)
		defer stop()
	}
	start := time.Now()
	var tick chan time.Time // open loop: the scheduled start of each request
	var taken atomic.Int64
	take := func() bool { // one more request allowed?
		if ctx.Err() != nil {
			return false
		}
		return cfg.Requests <= 0 || taken.Add(1) <= int64(cfg.Requests)
	}
	if cfg.Rate > 0 {
		tick = make(chan time.Time)
		go schedule(ctx, cfg.Rate, take, tick, cancel)
	}
	var wg sync.WaitGroup
	for w := range cfg.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for {
				var due time.Time
				if tick != nil {
					t, ok := <-tick
					if !ok {
						return
					}
					due = t
				} else {
					if !take() {
						return
					}
					due = time.Now()
				}
				user := cfg.Users[rng.IntN(len(cfg.Users))]
				record(send(ctx, client, cfg, user, due))
			}
		}()
	}
	done := make(chan struct{})
	if cfg.Progress != nil {
		go report(cfg.Progress, start, &mu, res, done)
	}
	wg.Wait()
	close(done)
	res.finish(time.Since(start))
	return res, nil
}

// schedule emits the open loop's start times, rate per second, until ctx
// ends or take refuses. A start that no worker is free to take waits, and
// its latency includes the wait.
func schedule(ctx context.Context, rate float64, take func() bool, tick chan<- time.Time, stop context.CancelFunc) {
	defer close(tick)
	interval := time.Duration(float64(time.Second) / rate)
	next := time.Now()
	for take() {
		if d := time.Until(next); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
		select {
		case <-ctx.Done():
			return
		case tick <- next:
		}
		next = next.Add(interval)
	}
	stop() // a request count reached: let in-flight requests finish, nothing more
}

// send makes one request; due is when it should have started.
func send(ctx context.Context, client *http.Client, cfg Config, user string, due time.Time) outcome {
	q := url.Values{"user_id": {user}, "n": {strconv.Itoa(cfg.N)}}
	// The request outlives the run's ctx by its own timeout, so the last
	// requests of a timed run finish instead of counting as errors.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, cfg.URL+"/v1/recommendations?"+q.Encode(), nil)
	if err != nil {
		return outcome{latency: time.Since(due), code: "request"}
	}
	for k, vs := range cfg.Header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		code := "transport"
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			code = "timeout"
		}
		return outcome{latency: time.Since(due), code: code}
	}
	defer resp.Body.Close()
	o := outcome{code: strconv.Itoa(resp.StatusCode)}
	if resp.StatusCode == http.StatusOK {
		var body struct {
			Degraded []string   `json:"degraded"`
			Items    []struct{} `json:"items"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			o.code = "bad_body"
		}
		o.degraded, o.items = body.Degraded, len(body.Items)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	o.latency = time.Since(due)
	return o
}

// report prints a line a second while the run lasts.
func report(w io.Writer, start time.Time, mu *sync.Mutex, res *Result, done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			mu.Lock()
			sent, ok, deg := res.Sent, res.Codes["200"], res.DegradedReplies
			p99 := time.Duration(res.hist.ValueAtQuantile(99)) * time.Microsecond
			mu.Unlock()
			fmt.Fprintf(w, "bench: %4.0fs %d sent, %d ok, %d degraded, p99 %v so far\n",
				time.Since(start).Seconds(), sent, ok, deg, p99)
		}
	}
}

// ParseUsers reads -users: a range "1-610", a comma list "1,5,9", or a file
// of ids (one per line, or the first column of a CSV such as ratings.csv;
// lines that do not start with a digit are skipped). Duplicates are dropped.
func ParseUsers(spec string, open func(string) (io.ReadCloser, error)) ([]string, error) {
	if lo, hi, ok := parseRange(spec); ok {
		if hi < lo || hi-lo > 10_000_000 {
			return nil, fmt.Errorf("users: bad range %q", spec)
		}
		out := make([]string, 0, hi-lo+1)
		for u := lo; u <= hi; u++ {
			out = append(out, strconv.FormatInt(u, 10))
		}
		return out, nil
	}
	if isIDList(spec) {
		return dedupe(splitComma(spec)), nil
	}
	f, err := open(spec)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer f.Close()
	ids, err := readIDs(f)
	if err != nil {
		return nil, fmt.Errorf("users: %s: %w", spec, err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("users: %s holds no ids", spec)
	}
	return ids, nil
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return slices.Clip(out)
}

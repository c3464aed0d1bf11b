package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/load"
)

// benchConfig is the configuration of `recmesh bench`.
type benchConfig struct {
	URL         string
	Users       string
	Connections int
	Rate        float64
	Duration    time.Duration
	Requests    int
	N           int
	Timeout     time.Duration
	APIKey      string
	JSON        bool
	SVG         string
	Quiet       bool
	Compare     string
}

// runBench loads a gateway with recommendation requests and reports what it
// measured: `recmesh bench -url http://127.0.0.1:8080 -connections 20 -duration 20s`.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c benchConfig
	f := newFlags("bench", stderr)
	f.String(&c.URL, "url", "http://127.0.0.1:8080", "the gateway's base URL")
	f.String(&c.Users, "users", "1-610", "users to pick from at random: a range (1-610), a comma list, or a file of ids (one per line, or the first column of a CSV such as ratings.csv)")
	f.Int(&c.Connections, "connections", 20, "closed loop: concurrent connections; open loop: most requests in flight")
	f.Float(&c.Rate, "rate", 0, "requests per second, open loop (latency from the scheduled start); 0 runs a closed loop")
	f.Duration(&c.Duration, "duration", 20*time.Second, "how long to send (0 with -requests: until that many)")
	f.Int(&c.Requests, "requests", 0, "stop after this many requests (0: no limit)")
	f.Int(&c.N, "n", 10, "items per request")
	f.Duration(&c.Timeout, "timeout", 5*time.Second, "per request; a request without an answer by then counts as a timeout")
	f.String(&c.APIKey, "api-key", "", "sent as X-API-Key when the gateway requires keys")
	f.Bool(&c.JSON, "json", false, "print the result as JSON instead of a table")
	f.String(&c.SVG, "svg", "", "also write the latency curve to this SVG file")
	f.Bool(&c.Quiet, "quiet", false, "no progress lines")
	f.String(&c.Compare, "compare", "", "send nothing: read two -json results, BASE.json,OTHER.json, print both and OTHER's ratios to BASE (with -svg, plot both); with more pairs (BASE1.json,OTHER1.json,BASE2.json,OTHER2.json,…, one per load level), print one table, a level a row, each side labelled by its files' directory")
	if err := f.Parse(args); err != nil {
		return err
	}
	if c.Compare != "" {
		return compareBench(c, stdout)
	}
	users, err := load.ParseUsers(c.Users, func(p string) (io.ReadCloser, error) { return os.Open(p) })
	if err != nil {
		return err
	}
	cfg := load.Config{URL: strings.TrimRight(c.URL, "/"), Users: users, Connections: c.Connections, Rate: c.Rate,
		Duration: c.Duration, Requests: c.Requests, N: c.N, Timeout: c.Timeout, Header: http.Header{}}
	if c.APIKey != "" {
		cfg.Header.Set("X-API-Key", c.APIKey)
	}
	if !c.Quiet {
		cfg.Progress = stderr
	}
	res, err := load.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if c.SVG != "" {
		if err := writeSVG(c.SVG, load.Series{Label: c.URL, Result: res}); err != nil {
			return err
		}
	}
	if c.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	res.WriteText(stdout)
	return nil
}

// writeSVG writes the latency plot of the series to path.
func writeSVG(path string, series ...load.Series) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := load.WriteSVG(f, series...); err != nil {
		f.Close()
		return fmt.Errorf("svg: %w", err)
	}
	return f.Close()
}

// compareBench prints two saved results side by side with their ratios,
// or pairs of them (one per load level) as one table.
func compareBench(c benchConfig, stdout io.Writer) error {
	paths := strings.Split(c.Compare, ",")
	if len(paths) < 2 || len(paths)%2 != 0 {
		return fmt.Errorf("-compare wants pairs BASE.json,OTHER.json[,BASE2.json,OTHER2.json…], got %q", c.Compare)
	}
	var series []load.Series
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var r load.Result
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		label := strings.TrimSuffix(filepath.Base(p), ".json")
		if len(paths) > 2 {
			label = filepath.Base(filepath.Dir(p)) // a side of the table: dev/c20.json is dev
		}
		series = append(series, load.Series{Label: label, Result: &r})
	}
	if len(series) > 2 {
		var pairs [][2]load.Series
		for k := 0; k < len(series); k += 2 {
			pairs = append(pairs, [2]load.Series{series[k], series[k+1]})
		}
		load.WriteTable(stdout, pairs)
		if c.SVG != "" {
			return writeSVG(c.SVG, series...)
		}
		return nil
	}
	for _, s := range series {
		fmt.Fprintf(stdout, "== %s: ", s.Label)
		s.Result.WriteText(stdout)
	}
	load.WriteRatios(stdout, series[0], series[1])
	if c.SVG != "" {
		return writeSVG(c.SVG, series...)
	}
	return nil
}

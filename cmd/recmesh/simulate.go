package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/mesh"
	"github.com/recmesh/recmesh/cmd/recmesh/internal/offline"
	"github.com/recmesh/recmesh/gateway"
	"github.com/recmesh/recmesh/gateway/rest"
	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/config"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/movielens"
	"github.com/recmesh/recmesh/services/experiment"
)

// simConfig is the configuration of `recmesh simulate`.
type simConfig struct {
	Data      string
	Rounds    int
	N         int
	Users     int
	TestShare float64
	AA        bool
	Drop      float64
	Offline   bool
	JSON      string
}

// The arms the simulation compares: config/experiments.json's
// fusion-weights experiment, whose offline scores `recmesh eval` prints.
var simArms = []struct {
	name    string
	weights map[string]float64
}{
	{"control", map[string]float64{"click": 1, "like": 0.3}},
	{"like-heavy", map[string]float64{"click": 0.2, "like": 1}},
}

const simToken = "simulate"

// runSimulate replays the sample through the real (embedded) stack as an
// online experiment: each user's newest ratings are held out as their
// future; the mesh is loaded with the past only; every round, every user
// asks for a list, clicks the shown items that are in their future (with
// the reply's request_id) and likes those they rated 4 or more. The
// experiment's results are then read from the results route.
func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c simConfig
	f := newFlags("simulate", stderr)
	f.String(&c.Data, "data", defaultData, "MovieLens directory the simulated users come from")
	f.Int(&c.Rounds, "rounds", 3, "how many times every user asks for a list")
	f.Int(&c.N, "n", 10, "items per list")
	f.Int(&c.Users, "users", 0, "simulate only the first users (0: all)")
	f.Float(&c.TestShare, "test-share", 0.2, "share of each user's newest ratings held out as their future (what they click)")
	f.Bool(&c.AA, "aa", false, "an A/A test: both arms get the control's weights")
	f.Float(&c.Drop, "drop", 0, "break the split: drop this share of the second arm's users from the exposure log (their replies are previews)")
	f.Bool(&c.Offline, "offline", false, "also evaluate both arms offline on the same split (trains once more)")
	f.String(&c.JSON, "json", "", "also write the results as JSON to this file")
	if err := f.Parse(args); err != nil {
		return err
	}
	c.Data = shipped(c.Data, defaultData)
	if c.Rounds < 1 || c.N < 1 || c.N > 100 || c.TestShare <= 0 || c.TestShare >= 1 || c.Drop < 0 || c.Drop >= 1 || c.Users < 0 {
		return errors.New("simulate: rounds ≥ 1, n within 1..100, test-share within (0,1), drop within [0,1) and users ≥ 0")
	}
	ds, err := movielens.Load(c.Data)
	if err != nil {
		return err
	}
	o := offline.DefaultEvalOptions()
	o.TestShare = c.TestShare
	eval, err := offline.PrepareEval(ds.Events(), o)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "recmesh-simulate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := writePast(dir, c.Data, eval.Train); err != nil {
		return err
	}
	m, err := startSimMesh(ctx, dir, c, stderr)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.Stop(sctx)
	}()
	splits := eval.Splits
	if c.Users > 0 && c.Users < len(splits) {
		splits = splits[:c.Users]
	}
	s := &simulation{m: m, c: c, client: &http.Client{Timeout: 10 * time.Second}}
	for round := 1; round <= c.Rounds; round++ {
		if err := s.round(ctx, splits); err != nil {
			return err
		}
		progress(stderr, "simulate", "rounds", int64(round), int64(c.Rounds))
	}
	res, err := s.results(ctx)
	if err != nil {
		return err
	}
	printResults(stdout, res, s)
	if c.Offline {
		if err := printOffline(ctx, stdout, stderr, ds, eval, o); err != nil {
			return err
		}
	}
	if c.JSON != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		return os.WriteFile(c.JSON, b, 0o644)
	}
	return nil
}

// writePast writes a MovieLens directory holding the catalogue and the
// users' past ratings only.
func writePast(dir, data string, past []domain.Event) error {
	movies, err := os.ReadFile(filepath.Join(data, "movies.csv"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "movies.csv"), movies, 0o644); err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("userId,movieId,rating,timestamp\n")
	for _, e := range past {
		fmt.Fprintf(&b, "%s,%d,%s,%d\n", e.UserID, e.ItemID, strconv.FormatFloat(e.Value, 'f', -1, 64), e.TS)
	}
	return os.WriteFile(filepath.Join(dir, "ratings.csv"), b.Bytes(), 0o644)
}

func startSimMesh(ctx context.Context, dir string, c simConfig, stderr io.Writer) (*mesh.Mesh, error) {
	cfg := abtest.Config{Version: 1, Defaults: abtest.Params{RankingWeights: simArms[0].weights}, Layers: []abtest.Layer{{
		Name: "ranking", Salt: "simulate", Experiments: []abtest.Experiment{{Name: "fusion-weights", Variants: []abtest.Variant{
			{Name: simArms[0].name, Buckets: []abtest.Range{{Start: 0, End: 5000}}},
			{Name: simArms[1].name, Buckets: []abtest.Range{{Start: 5000, End: abtest.NumBuckets}},
				Params: abtest.Params{RankingWeights: simArms[1].weights}},
		}}}}}}
	if c.AA {
		cfg.Layers[0].Experiments[0].Variants[1].Params = abtest.Params{}
	}
	b, _ := json.Marshal(cfg)
	expFile := filepath.Join(dir, "experiments.json")
	if err := os.WriteFile(expFile, b, 0o644); err != nil {
		return nil, err
	}
	comps := mesh.Components()
	f := config.NewFlags("simulate-mesh")
	for _, comp := range comps {
		comp.Bind(f)
	}
	if err := f.Parse([]string{"-store", "memory:", "-data", dir, "-model-dir", filepath.Join(dir, "models"),
		"-experiments", expFile, "-admin-token", simToken, "-results-refresh", "1h"}); err != nil {
		return nil, err
	}
	g := mesh.DefaultGatewayConfig()
	g.REST.Addr = "127.0.0.1:0"
	g.REST.MaxBodyBytes = 8 << 20
	// A simulation measures choices, not speed: budgets wide enough that no
	// answer is degraded by a busy machine.
	g.Budgets = gateway.Budgets{Request: 10 * time.Second, Features: 2 * time.Second, Recall: 4 * time.Second, Filter: 2 * time.Second, Ranking: 4 * time.Second, Write: 10 * time.Second}
	return mesh.Start(ctx, mesh.Options{Components: comps, DataDir: dir, ModelDir: filepath.Join(dir, "models"),
		Instance: "simulate", Gateway: g, Log: io.Discard, LogLevel: slog.LevelError, Progress: stderr})
}

type simulation struct {
	m      *mesh.Mesh
	c      simConfig
	client *http.Client
	// requests counts the replies logged as exposures, per arm, and rows.
	requests, rows, dropped, degraded int
	clicks, likes                     int
}

// round asks once for every user's list and sends their feedback.
func (s *simulation) round(ctx context.Context, splits []offline.UserSplit) error {
	var events []domain.Event
	for _, u := range splits {
		future := map[int64]float64{}
		for _, e := range u.Future() {
			future[e.ItemID] = e.Value
		}
		drop := s.c.Drop > 0 && float64(abtest.Bucket("simulate-drop", u.User))/abtest.NumBuckets < s.c.Drop
		rep, err := s.recommend(ctx, u.User, drop)
		if err != nil {
			return err
		}
		if drop && !slices.ContainsFunc(rep.Experiments, func(a abtest.Assignment) bool { return a.Variant == simArms[1].name }) {
			// only the second arm loses users; ask again as a logged reply
			if rep, err = s.recommend(ctx, u.User, false); err != nil {
				return err
			}
			drop = false
		}
		if drop {
			s.dropped++
			continue
		}
		s.requests++
		s.rows += len(rep.Items)
		if len(rep.Degraded) > 0 {
			s.degraded++
		}
		for _, it := range rep.Items {
			r, ok := future[it.ItemID]
			if !ok {
				continue
			}
			events = append(events, domain.Event{UserID: u.User, ItemID: it.ItemID, Type: "click", RequestID: rep.RequestID})
			s.clicks++
			if r >= 4 {
				events = append(events, domain.Event{UserID: u.User, ItemID: it.ItemID, Type: "like", RequestID: rep.RequestID})
				s.likes++
			}
		}
	}
	for start := 0; start < len(events); start += 1000 {
		if err := s.post(ctx, events[start:min(start+1000, len(events))]); err != nil {
			return err
		}
	}
	return nil
}

func (s *simulation) recommend(ctx context.Context, user string, preview bool) (gateway.Reply, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/v1/recommendations?n=%d&user_id=%s", s.m.URL(), s.c.N, user), nil)
	if preview {
		req.Header.Set(rest.PreviewHeader, "1")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return gateway.Reply{}, err
	}
	defer resp.Body.Close()
	var rep gateway.Reply
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return rep, fmt.Errorf("recommendations for %s: %d %s", user, resp.StatusCode, b)
	}
	return rep, json.NewDecoder(resp.Body).Decode(&rep)
}

func (s *simulation) post(ctx context.Context, events []domain.Event) error {
	b, _ := json.Marshal(map[string]any{"events": events})
	req, _ := http.NewRequestWithContext(ctx, "POST", s.m.URL()+"/v1/events", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("events: %d %s", resp.StatusCode, body)
	}
	return nil
}

// results waits until the exposure log holds every logged row, then reads
// the experiment's results.
func (s *simulation) results(ctx context.Context) (*experiment.Results, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.m.AdminURL("experiment")+"/admin/v1/layers/ranking/experiments/fusion-weights/results", nil)
		req.Header.Set("Authorization", "Bearer "+simToken)
		resp, err := s.client.Do(req)
		if err != nil {
			return nil, err
		}
		var r experiment.Results
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		rows := int64(0)
		for _, v := range r.Variants {
			rows += v.Exposures
		}
		if rows >= int64(s.rows) {
			return &r, nil
		}
		if time.Now().After(deadline) {
			return &r, fmt.Errorf("the exposure log holds %d of %d rows after 60 s", rows, s.rows)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func printResults(w io.Writer, r *experiment.Results, s *simulation) {
	f := func(n experiment.Num) string {
		if v := float64(n); v == v {
			return strconv.FormatFloat(v, 'f', 4, 64)
		}
		return "–"
	}
	fmt.Fprintf(w, "replies logged %d (rows %d, degraded %d), dropped from the log %d; clicks sent %d, likes %d\n\n",
		s.requests, s.rows, s.degraded, s.dropped, s.clicks, s.likes)
	fmt.Fprintln(w, "| arm | users | exposures | clicks | CTR | CTR 95% CI | likes | like rate | like 95% CI |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, v := range r.Variants {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %s | [%s, %s] | %d | %s | [%s, %s] |\n", v.Name, v.Users, v.Exposures, v.Clicks,
			f(v.CTR), f(v.CTRCI[0]), f(v.CTRCI[1]), v.Likes, f(v.LikeRate), f(v.LikeCI[0]), f(v.LikeCI[1]))
	}
	fmt.Fprintln(w)
	for _, c := range r.Comparisons {
		fmt.Fprintf(w, "%s vs %s: CTR lift %s [%s, %s], p = %s; like lift %s [%s, %s], p = %s\n", c.Variant, c.Against,
			f(c.CTRLift), f(c.CTRLiftCI[0]), f(c.CTRLiftCI[1]), f(c.CTRPValue), f(c.LikeLift), f(c.LikeLiftCI[0]), f(c.LikeLiftCI[1]), f(c.LikePValue))
	}
	if r.SRM != nil {
		fmt.Fprintf(w, "SRM: observed %v, expected %v, p = %.3g, alarm %v\n", r.SRM.Observed, roundMap(r.SRM.Expected), float64(r.SRM.PValue), r.SRM.Alarm)
	}
}

func roundMap(m map[string]float64) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = strconv.FormatFloat(v, 'f', 1, 64)
	}
	return out
}

// printOffline evaluates both arms' weights offline on the same split.
func printOffline(ctx context.Context, w, stderr io.Writer, ds *movielens.Dataset, eval offline.EvalData, o offline.EvalOptions) error {
	o.Train.Progress = stderr
	for _, a := range simArms {
		o.Variants = append(o.Variants, offline.WeightVariant{Name: a.name, Weights: a.weights})
	}
	results, err := offline.Evaluate(ctx, ds.Items(), eval, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\noffline, same split:")
	for _, r := range results {
		for _, a := range simArms {
			if strings.HasSuffix(r.Name, a.name) {
				fmt.Fprintf(w, "  %s: NDCG@10 %.4f, HR@10 %.4f\n", r.Name, r.NDCG[10], r.HR10)
			}
		}
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/mesh"
	"github.com/recmesh/recmesh/pkg/config"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/services/filter"
)

// allConfig is the configuration of `recmesh all`.
type allConfig struct {
	DataDir      string
	ModelDir     string
	ModelPoll    time.Duration
	Experiments  string
	AdminToken   string `secret:"true"`
	Blocklist    string
	MaxPerGenre  int
	OTLPEndpoint string
	LogLevel     string
	GRPCBasePort int
	AdminBase    int
	Gateway      mesh.GatewayConfig
}

func runAll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c allConfig
	f := newFlags("all", stderr)
	f.String(&c.DataDir, "data-dir", "data/movielens-small", "MovieLens directory loaded into the features store")
	f.String(&c.ModelDir, "model-dir", "var/models", "model artifact directory; the first version is trained when it is empty")
	f.Duration(&c.ModelPoll, "model-poll", 2*time.Second, "how often a newly published model version is looked for")
	f.String(&c.Experiments, "experiments", "config/experiments.json", "experiment config file")
	f.String(&c.AdminToken, "admin-token", "", "bearer token of the experiment admin REST API (on the experiment admin port); empty switches it off")
	f.String(&c.Blocklist, "blocklist", "", "file of item ids (one per line, # comments) the filter drops for everyone")
	f.Int(&c.MaxPerGenre, "max-per-genre", 100, "filter's default cap of candidates per genre; a variant can override it")
	f.String(&c.OTLPEndpoint, "otlp-endpoint", "", "OTLP/gRPC host:port to export traces to; empty exports none")
	f.String(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	f.Int(&c.GRPCBasePort, "grpc-base-port", 9100, "services' gRPC ports are base+1 (features) … base+5 (experiment); 0 picks free ports")
	f.Int(&c.AdminBase, "admin-base-port", 9200, "services' admin HTTP ports are base+1 … base+5; 0 picks free ports")
	c.Gateway.Bind(f)
	if err := f.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	log := rlog.New(stderr, "recmesh", rlog.ParseLevel(c.LogLevel))
	config.Log(log, "configuration", &c)
	blocked, err := filter.LoadBlocklist(c.Blocklist)
	if err != nil {
		return err
	}
	o := mesh.Options{
		DataDir: c.DataDir, ModelDir: c.ModelDir, ModelPoll: c.ModelPoll, Experiments: c.Experiments, AdminToken: c.AdminToken, OTLPEndpoint: c.OTLPEndpoint,
		Blocklist: blocked, MaxPerGenre: c.MaxPerGenre,
		Instance: "gateway", Gateway: c.Gateway, Log: stderr, LogLevel: rlog.ParseLevel(c.LogLevel), Progress: stderr,
		GRPCAddrs: ports(c.GRPCBasePort), AdminAddrs: ports(c.AdminBase),
	}
	m, err := mesh.Start(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "recmesh is up in %s\n", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "  gateway     %s   (try %s/v1/recommendations?user_id=1)\n", m.URL(), m.URL())
	fmt.Fprintf(stdout, "  openapi     %s/openapi.json\n", m.URL())
	fmt.Fprintf(stdout, "  metrics     %s/metrics\n", m.URL())
	for _, s := range mesh.Services {
		fmt.Fprintf(stdout, "  %-11s %s/metrics\n", s, m.AdminURL(s))
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return m.Stop(sctx)
}

func ports(base int) map[string]string {
	out := map[string]string{}
	for i, s := range mesh.Services {
		if base > 0 {
			out[s] = fmt.Sprintf("127.0.0.1:%d", base+1+i)
		}
	}
	return out
}

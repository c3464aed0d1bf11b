package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/mesh"
	"github.com/recmesh/recmesh/pkg/config"
	rlog "github.com/recmesh/recmesh/pkg/log"
)

// allConfig is the configuration of `recmesh all`; each service's own
// configuration is bound by its component.
type allConfig struct {
	Data         string
	ModelDir     string
	OTLPEndpoint string
	LogLevel     string
	GRPCBasePort int
	AdminBase    int
	PprofToken   string `secret:"true"`
	Gateway      mesh.GatewayConfig
}

func runAll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c allConfig
	f := newFlags("all", stderr)
	// Bound before the components, so these defaults are theirs too: the
	// embedded mode loads the sample into its memory: store.
	f.String(&c.Data, "data", defaultData, "MovieLens directory: loaded into the memory: store, and the first model is trained from it")
	f.String(&c.ModelDir, "model-dir", "var/models", "model artifact directory; the first version is trained when it is empty")
	f.String(&c.OTLPEndpoint, "otlp-endpoint", "", "OTLP/gRPC host:port to export traces to; empty exports none")
	f.String(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	f.Int(&c.GRPCBasePort, "grpc-base-port", 9100, "services' gRPC ports are base+1, base+2, … in the order of `recmesh services`; 0 picks free ports")
	f.Int(&c.AdminBase, "admin-base-port", 9200, "services' admin HTTP ports are base+1, base+2, …; 0 picks free ports")
	f.String(&c.PprofToken, "pprof-token", "", "bearer token that turns on /debug/pprof/ on the admin port(s); empty: pprof off")
	c.Gateway.Bind(f)
	comps := mesh.Components()
	for _, comp := range comps {
		comp.Bind(f)
	}
	if err := f.Parse(args); err != nil {
		return err
	}
	c.Data = shipped(c.Data, defaultData)
	start := time.Now()
	log := rlog.New(stderr, "recmesh", rlog.ParseLevel(c.LogLevel))
	config.Log(log, "configuration", &c)
	for _, comp := range comps {
		config.Log(log, "configuration of "+comp.Name(), comp)
	}
	m, err := mesh.Start(ctx, mesh.Options{
		Components: comps, DataDir: c.Data, ModelDir: c.ModelDir, OTLPEndpoint: c.OTLPEndpoint,
		Instance: "gateway", Gateway: c.Gateway, Log: stderr, LogLevel: rlog.ParseLevel(c.LogLevel), Progress: stderr,
		GRPCAddrs: ports(c.GRPCBasePort), AdminAddrs: ports(c.AdminBase), PprofToken: c.PprofToken,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "recmesh is up in %s\n", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "  gateway     %s   (try %s/v1/recommendations?user_id=1)\n", m.URL(), m.URL())
	fmt.Fprintf(stdout, "  openapi     %s/openapi.json\n", m.URL())
	fmt.Fprintf(stdout, "  metrics     %s/metrics\n", m.URL())
	for _, s := range mesh.Services() {
		fmt.Fprintf(stdout, "  %-11s %s/metrics\n", s, m.AdminURL(s))
	}
	fmt.Fprintf(stdout, "  console     %s/console/   (the experiment service's -admin-token signs in)\n", m.AdminURL("experiment"))
	<-ctx.Done()
	fmt.Fprintln(stdout, "shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return m.Stop(sctx)
}

// ports maps each service to 127.0.0.1:base+1+i, its place in the list;
// base 0 leaves every port free to choose.
func ports(base int) map[string]string {
	out := map[string]string{}
	for i, s := range mesh.Services() {
		if base > 0 {
			out[s] = fmt.Sprintf("127.0.0.1:%d", base+1+i)
		}
	}
	return out
}

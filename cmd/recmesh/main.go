// Command recmesh is recmesh's one binary:
//
//	recmesh all         every service and the gateway in one process (embedded mode)
//	recmesh features    one service as its own process (also recall, filter,
//	                    ranking, experiment), registered in Consul
//	recmesh gateway     the edge gateway as its own process, discovering through Consul
//	recmesh services    list the services (make dev starts one process each)
//	recmesh init        migrate, import the sample, rebuild Redis, train: a fresh deployment's one job
//	recmesh probe       GET a URL and fail unless 2xx (the image's healthcheck)
//	recmesh train       fit model artifacts from a MovieLens directory and publish them
//	recmesh eval        evaluate every method on a time-ordered split
//	recmesh bench       load the gateway and report throughput, latency and degraded share
//	recmesh synth       write a synthetic MovieLens directory at any scale
//	recmesh migrate     apply the PostgreSQL schema migrations
//	recmesh import      load a MovieLens directory into PostgreSQL
//	recmesh replay      rebuild Redis from the PostgreSQL event log
//	recmesh publish     make a stored model version current
//	recmesh rollback    make the previous model version current
//
// Every flag can also be set through its RECMESH_* environment variable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/mesh"
	"github.com/recmesh/recmesh/pkg/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal asks the command to stop (servers drain, jobs stop
	// at their next step); a second one ends the process at once: a
	// training stage on a large catalogue takes minutes.
	go func() { <-ctx.Done(); stop() }()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "recmesh:", err)
		os.Exit(1)
	}
}

const usage = `usage: recmesh <command> [flags]

commands:
  all         run every service and the gateway in one process (embedded mode)
  features    run the features service alone (PostgreSQL + Redis, registers in Consul)
  recall      run the recall service alone (model artifacts, registers in Consul)
  filter      run the filter service alone (registers in Consul)
  ranking     run the ranking service alone (model artifacts, registers in Consul)
  experiment  run the experiment service alone (PostgreSQL, admin API, registers in Consul)
  gateway     run the edge gateway alone (discovers the services in Consul)
  services    list the services, one per line, in start order
  init        prepare a deployment: migrate, import the sample if empty, rebuild Redis, train if no model
  probe       GET a URL and fail unless it answers 2xx (container healthchecks)
  train       fit model artifacts from a MovieLens directory and publish them
  eval        evaluate every method on a time-ordered split
  bench       load the gateway (closed or open loop) and report throughput, latency percentiles, errors and degraded replies
  synth       write a synthetic catalogue and ratings (MovieLens format) with a long tail and low-rank taste, at any scale
  simulate    replay the sample as an online A/B test through the embedded stack and print its results
  migrate     apply the PostgreSQL schema migrations
  import      load a MovieLens directory into PostgreSQL
  replay      rebuild the Redis real-time state from the PostgreSQL event log
  publish     make a stored model version current
  rollback    make the previous model version current

Run 'recmesh <command> -h' for a command's flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h printed the command's flags
	}
	return err
}

// newFlags is a subcommand's flag set, reporting to stderr.
func newFlags(name string, stderr io.Writer) *config.Flags {
	f := config.NewFlags(name)
	f.FS.SetOutput(stderr)
	return f
}

// progress reports how far a long job has come, as "<job>: done/total <unit> (pct%)".
func progress(w io.Writer, job, unit string, done, total int64) {
	fmt.Fprintf(w, "%s: %d/%d %s (%.0f%%)\n", job, done, total, unit, 100*float64(done)/float64(max(total, 1)))
}

// servingGCPercent is the GC target of the serving commands (Go's
// default is 100): the serving path allocates per request, and at 200 the
// collector's share of the CPU under load halves (about 10% to 5% of
// samples in the embedded mode's profile) for a larger heap (about 0.4 GiB
// under load on the sample). GOGC, when set, wins.
const servingGCPercent = 200

// servingGC sets servingGCPercent for a command that serves requests.
func servingGC(command string) {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	serving := command == "all" || command == "gateway"
	for _, c := range mesh.Components() {
		serving = serving || c.Name() == command
	}
	if serving {
		debug.SetGCPercent(servingGCPercent)
	}
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	servingGC(args[0])
	limitMemory()
	switch args[0] {
	case "all":
		return runAll(ctx, args[1:], stdout, stderr)
	case "train":
		return runTrain(ctx, args[1:], stdout, stderr)
	case "eval":
		return runEval(ctx, args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "synth":
		return runSynth(ctx, args[1:], stdout, stderr)
	case "simulate":
		return runSimulate(ctx, args[1:], stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout, stderr)
	case "import":
		return runImport(ctx, args[1:], stdout, stderr)
	case "replay":
		return runReplay(ctx, args[1:], stdout, stderr)
	case "publish":
		return runPublish(ctx, args[1:], stdout, stderr)
	case "rollback":
		return runRollback(ctx, args[1:], stdout, stderr)
	case "init":
		return runInit(ctx, args[1:], stdout, stderr)
	case "probe":
		return runProbe(ctx, args[1:], stdout, stderr)
	case "services":
		fmt.Fprintln(stdout, strings.Join(mesh.Services(), "\n"))
		return nil
	case "gateway":
		return runGateway(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	for _, c := range mesh.Components() {
		if c.Name() == args[0] {
			return runNode(ctx, c, args[1:], stdout, stderr)
		}
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

package artifact

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/recmesh/recmesh/pkg/config"
)

// Watcher polls a store's CURRENT and hands every newly published version
// to Load. A version that fails to load is logged and retried on the next
// tick; whatever was loaded before stays in service meanwhile.
type Watcher struct {
	Store Store
	Every time.Duration
	// Load swaps the version in; it must be safe to call while serving.
	Load func(*Set) error
	Log  *slog.Logger
	// Loaded is the version already in service, so it is not loaded twice.
	Loaded string
	// Metrics, when set, record every swap and refusal.
	Metrics *Metrics
}

// Config is where a service's model artifacts are, and how often a newly
// published version is looked for.
type Config struct {
	Dir  string
	Poll time.Duration
}

// Bind binds -model-dir and -model-poll, the flags of every service that
// serves model artifacts (one pair of flags in a process that runs several).
func (c *Config) Bind(f *config.Flags) {
	f.String(&c.Dir, "model-dir", "var/models", "model artifact directory (recmesh train writes it)")
	f.Duration(&c.Poll, "model-poll", 2*time.Second, "how often a newly published model version is looked for")
}

// Follow serves model versions: first loads the current version (and
// whatever else the service keeps), then next swaps in every newer version
// that is published, until stop is called. m (nil for none) records them.
func (c Config) Follow(log *slog.Logger, m *Metrics, first, next func(*Set) error) (stop func(), err error) {
	models := Store{Dir: c.Dir}
	set, err := models.OpenCurrent()
	if err != nil {
		return nil, fmt.Errorf("%w (train one with recmesh train)", err)
	}
	if err := first(set); err != nil {
		return nil, err
	}
	m.serve(set, false)
	return (&Watcher{Store: models, Every: c.Poll, Loaded: set.Manifest.Version, Log: log, Load: next, Metrics: m}).Start(), nil
}

// Start runs the watcher in the background; stop ends it and waits.
func (w *Watcher) Start() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// Run polls until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(w.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Check(ctx)
		}
	}
}

// Check loads the current version if it is not the one in service.
func (w *Watcher) Check(ctx context.Context) {
	v, err := w.Store.Current()
	if err != nil || v == w.Loaded {
		if err != nil {
			w.Log.WarnContext(ctx, "model store unreadable; keeping the loaded version", "err", err, "version", w.Loaded)
		}
		return
	}
	set, err := w.Store.Open(v)
	if err == nil {
		err = w.Load(set)
	}
	if err != nil {
		w.Log.ErrorContext(ctx, "new model version refused; keeping the loaded one", "version", v, "loaded", w.Loaded, "err", err)
		w.Metrics.refused()
		return
	}
	w.Metrics.serve(set, true)
	w.Log.InfoContext(ctx, "model version swapped in", "version", v, "previous", w.Loaded)
	w.Loaded = v
}

package artifact

import (
	"context"
	"log/slog"
	"time"
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
		return
	}
	w.Log.InfoContext(ctx, "model version swapped in", "version", v, "previous", w.Loaded)
	w.Loaded = v
}

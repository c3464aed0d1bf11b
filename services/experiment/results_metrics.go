package experiment

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// resultsExporter recomputes every configured experiment's results in the
// background and exports them to Prometheus, so Grafana plots CTR per
// variant and alerts on SRM from the same numbers the results route
// answers. Labels are bounded by the config: layer, experiment, variant.
type resultsExporter struct {
	src     ExposureStats
	configs *Configs
	every   time.Duration
	log     *slog.Logger

	mu   sync.Mutex
	last []*Results

	stop chan struct{}
	done chan struct{}
}

var (
	resultLabels = []string{"layer", "experiment", "variant"}
	descUsers    = prometheus.NewDesc("recmesh_experiment_users_total", "Users exposed per experiment variant (the holdout is variant=\"holdout\"), read from the exposure log.", resultLabels, nil)
	descExpos    = prometheus.NewDesc("recmesh_experiment_exposures_total", "Exposure rows (items shown) per experiment variant.", resultLabels, nil)
	descClicks   = prometheus.NewDesc("recmesh_experiment_clicks_total", "Exposures with an attributed click per experiment variant.", resultLabels, nil)
	descLikes    = prometheus.NewDesc("recmesh_experiment_likes_total", "Exposures with an attributed like per experiment variant.", resultLabels, nil)
	descSRMP     = prometheus.NewDesc("recmesh_experiment_srm_p_value", "Chi-square p-value of users per variant against the configured shares.", []string{"layer", "experiment"}, nil)
	descSRM      = prometheus.NewDesc("recmesh_experiment_srm_alarm", "1 when the experiment's sample-ratio mismatch p-value is below 0.001.", []string{"layer", "experiment"}, nil)
)

func newResultsExporter(src ExposureStats, configs *Configs, every time.Duration, log *slog.Logger) *resultsExporter {
	e := &resultsExporter{src: src, configs: configs, every: every, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	go e.run()
	return e
}

// retryAfter is how soon a refresh that failed is tried again (at start,
// features may not be reachable yet).
const retryAfter = 2 * time.Second

func (e *resultsExporter) run() {
	defer close(e.done)
	for {
		wait := e.every
		if !e.refresh() {
			wait = min(wait, retryAfter)
		}
		select {
		case <-e.stop:
			return
		case <-time.After(wait):
		}
	}
}

// refresh recomputes every experiment; one that fails keeps its last
// numbers. It reports whether every experiment was refreshed.
func (e *resultsExporter) refresh() bool {
	cfg, err := e.configs.GetConfig(context.Background())
	if err != nil {
		return false
	}
	ok := true
	prev := map[[2]string]*Results{}
	e.mu.Lock()
	for _, r := range e.last {
		prev[[2]string{r.Layer, r.Experiment}] = r
	}
	e.mu.Unlock()
	var next []*Results
	for _, l := range cfg.AllLayers() {
		for _, x := range l.Experiments {
			ctx, cancel := context.WithTimeout(context.Background(), e.every)
			r, err := ComputeResults(ctx, e.src, cfg, l.Name, x.Name, time.Time{})
			cancel()
			if err != nil {
				e.log.Warn("experiment results not refreshed", "layer", l.Name, "experiment", x.Name, "err", err)
				r, ok = prev[[2]string{l.Name, x.Name}], false
			}
			if r != nil {
				next = append(next, r)
			}
		}
	}
	e.mu.Lock()
	e.last = next
	e.mu.Unlock()
	return ok
}

func (e *resultsExporter) close() {
	close(e.stop)
	<-e.done
}

// Describe implements prometheus.Collector.
func (e *resultsExporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUsers, descExpos, descClicks, descLikes, descSRMP, descSRM} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (e *resultsExporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.last {
		for _, v := range r.Variants {
			lv := []string{r.Layer, r.Experiment, v.Name}
			ch <- prometheus.MustNewConstMetric(descUsers, prometheus.CounterValue, float64(v.Users), lv...)
			ch <- prometheus.MustNewConstMetric(descExpos, prometheus.CounterValue, float64(v.Exposures), lv...)
			ch <- prometheus.MustNewConstMetric(descClicks, prometheus.CounterValue, float64(v.Clicks), lv...)
			ch <- prometheus.MustNewConstMetric(descLikes, prometheus.CounterValue, float64(v.Likes), lv...)
		}
		if r.SRM != nil {
			alarm := 0.0
			if r.SRM.Alarm {
				alarm = 1
			}
			ch <- prometheus.MustNewConstMetric(descSRMP, prometheus.GaugeValue, float64(r.SRM.PValue), r.Layer, r.Experiment)
			ch <- prometheus.MustNewConstMetric(descSRM, prometheus.GaugeValue, alarm, r.Layer, r.Experiment)
		}
	}
}

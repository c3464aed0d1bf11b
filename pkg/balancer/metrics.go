package balancer

import "github.com/prometheus/client_golang/prometheus"

// Collector reports pickers' state on every scrape: the requests in flight
// to each instance (what the bounded-load ring balances) and the open
// connections of each service's pool.
type Collector struct {
	pickers  []*Picker
	inflight *prometheus.Desc
	conns    *prometheus.Desc
}

// NewCollector reports on pickers.
func NewCollector(pickers ...*Picker) *Collector {
	return &Collector{
		pickers: pickers,
		inflight: prometheus.NewDesc("recmesh_hop_inflight",
			"Requests in flight from this gateway to one instance (target) of a service.", []string{"service", "target"}, nil),
		conns: prometheus.NewDesc("recmesh_hop_connections",
			"Open gRPC connections from this gateway to a service's instances.", []string{"service"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- c.inflight; ch <- c.conns }

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.pickers {
		p.mu.Lock()
		for addr := range p.conns {
			ch <- prometheus.MustNewConstMetric(c.inflight, prometheus.GaugeValue, float64(p.inflight[addr]), p.service, addr)
		}
		n := len(p.conns)
		p.mu.Unlock()
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(n), p.service)
	}
}

// Package dashboards defines recmesh's Grafana dashboards as data, and
// renders them to the JSON files under deploy/grafana/dashboards (go
// generate; a test fails when the files and the definitions differ).
// Every panel query is PromQL over metrics the services export; the tests
// parse each one and compare the metric names with what the code registers.
package dashboards

//go:generate go run ./gen -out ../../../../deploy/grafana/dashboards

import (
	"encoding/json"
	"fmt"
	"strings"
)

// SLO is the gateway's latency objective for a recommendation, in seconds.
const SLO = 0.05

// Query is one PromQL expression of a panel, with its legend.
type Query struct {
	Expr   string
	Legend string
}

// Panel is one graph.
type Panel struct {
	Title       string
	Description string
	// Unit is Grafana's unit id: reqps, s, percentunit, bytes, short, none.
	Unit    string
	Queries []Query
	// Stat draws a single value per series instead of a time series.
	Stat bool
	// Threshold, when set, is drawn as a red line (the SLO, say).
	Threshold float64
}

// Row is a titled group of panels.
type Row struct {
	Title  string
	Panels []Panel
}

// Dashboard is one Grafana dashboard.
type Dashboard struct {
	UID, Title, Description string
	Rows                    []Row
}

// Exprs lists every query of every panel of ds, for the tests and the
// compose check.
func Exprs(ds []Dashboard) []string {
	var out []string
	for _, d := range ds {
		for _, r := range d.Rows {
			for _, p := range r.Panels {
				for _, q := range p.Queries {
					out = append(out, q.Expr)
				}
			}
		}
	}
	return out
}

// datasource is the dashboard's Prometheus, chosen through a variable so
// the files work in any Grafana, provisioned or imported.
var datasource = map[string]string{"type": "prometheus", "uid": "${datasource}"}

// JSON renders d in Grafana's dashboard model (schema 39, Grafana 10–12).
func (d Dashboard) JSON() ([]byte, error) {
	var panels []any
	id, y := 1, 0
	for _, r := range d.Rows {
		panels = append(panels, map[string]any{
			"id": id, "type": "row", "title": r.Title, "collapsed": false, "panels": []any{},
			"gridPos": map[string]int{"h": 1, "w": 24, "x": 0, "y": y},
		})
		id++
		y++
		for i, p := range r.Panels {
			if p.Unit == "" || p.Description == "" || len(p.Queries) == 0 {
				return nil, fmt.Errorf("%s / %s: a panel needs a unit, a description and a query", d.Title, p.Title)
			}
			w := 8
			panels = append(panels, p.model(id, map[string]int{"h": 8, "w": w, "x": (i % 3) * w, "y": y + (i/3)*8}))
			id++
		}
		y += ((len(r.Panels) + 2) / 3) * 8
	}
	model := map[string]any{
		"uid": d.UID, "title": d.Title, "description": d.Description, "tags": []string{"recmesh"},
		"schemaVersion": 39, "version": 1, "editable": true, "refresh": "10s", "timezone": "browser",
		"time":        map[string]string{"from": "now-1h", "to": "now"},
		"annotations": map[string]any{"list": []any{}},
		"templating": map[string]any{"list": []any{map[string]any{
			"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
			"current": map[string]string{"text": "Prometheus", "value": "prometheus"},
		}}},
		"panels": panels,
	}
	b, err := json.MarshalIndent(model, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func (p Panel) model(id int, pos map[string]int) map[string]any {
	var targets []any
	for i, q := range p.Queries {
		targets = append(targets, map[string]any{
			"refId": string(rune('A' + i)), "expr": q.Expr, "legendFormat": q.Legend, "datasource": datasource,
		})
	}
	steps := []any{map[string]any{"color": "green", "value": nil}}
	custom := map[string]any{}
	if p.Threshold != 0 {
		steps = append(steps, map[string]any{"color": "red", "value": p.Threshold})
		custom["thresholdsStyle"] = map[string]string{"mode": "line"}
	}
	kind := "timeseries"
	if p.Stat {
		kind = "stat"
	}
	return map[string]any{
		"id": id, "type": kind, "title": p.Title, "description": p.Description,
		"datasource": datasource, "gridPos": pos, "targets": targets,
		"fieldConfig": map[string]any{
			"defaults": map[string]any{
				"unit": p.Unit, "custom": custom,
				"thresholds": map[string]any{"mode": "absolute", "steps": steps},
			},
			"overrides": []any{},
		},
		"options": map[string]any{"legend": map[string]any{"displayMode": "list", "placement": "bottom", "showLegend": true}},
	}
}

// FileName is the dashboard's file under deploy/grafana/dashboards.
func (d Dashboard) FileName() string {
	return strings.TrimPrefix(d.UID, "recmesh-") + ".json"
}

package dashboards

import "fmt"

// Hops are the recommendation path's hops, each one a row of the hops
// dashboard.
var Hops = []string{"features", "recall", "filter", "ranking"}

// All is every dashboard recmesh ships.
func All() []Dashboard {
	return []Dashboard{overview(), hops(), stores(), models(), runtime(), experiments()}
}

const recommend = `route="recommendations"`

func overview() Dashboard {
	return Dashboard{UID: "recmesh-overview", Title: "recmesh / overview",
		Description: "What a feed team sees: traffic, errors, latency against the 50 ms SLO, and how much of it was served by fallbacks.",
		Rows: []Row{{Title: "Gateway", Panels: []Panel{
			{Title: "Requests", Unit: "reqps", Description: "REST requests per second at the gateways, by route.",
				Queries: []Query{{`sum by (route) (rate(recmesh_http_requests_total[1m]))`, "{{route}}"}}},
			{Title: "Errors", Unit: "percentunit", Description: "Share of REST requests answered 5xx (503 means every fallback failed too, or the request was shed).",
				Queries: []Query{{`(sum(rate(recmesh_http_requests_total{status=~"5.."}[1m])) or vector(0)) / sum(rate(recmesh_http_requests_total[1m]))`, "5xx"}}},
			{Title: "Recommendation latency", Unit: "s", Threshold: SLO, Description: "p50, p95 and p99 of GET /v1/recommendations at the gateways; the red line is the 50 ms SLO.",
				Queries: quantiles(`sum by (le) (rate(recmesh_http_request_duration_seconds_bucket{` + recommend + `}[1m]))`)},
			{Title: "Degraded answers by hop", Unit: "percentunit", Description: "Share of recommendations in which a hop was answered by its fallback (degraded:[hop] in the reply).",
				Queries: []Query{{`sum by (hop) (rate(recmesh_hop_fallbacks_total{hop=~"features|recall|filter|ranking"}[1m])) / ignoring(hop) group_left() sum(rate(recmesh_http_requests_total{` + recommend + `}[1m]))`, "{{hop}}"}}},
			{Title: "Breakers open", Unit: "short", Stat: true, Description: "Gateways whose breaker of the hop is open now (0 is healthy).",
				Queries: []Query{{`sum by (hop) (recmesh_breaker_open)`, "{{hop}}"}}},
			{Title: "Instances up", Unit: "short", Stat: true, Description: "Scraped instances answering, by service (Prometheus finds them in Consul).",
				Queries: []Query{{`sum by (job) (up{job!="prometheus"})`, "{{job}}"}}},
			{Title: "Shedding", Unit: "reqps", Description: "Recommendation requests per second by the rung of the shedding ladder that served them (full, skip_ranking, popular, refuse), with the adaptive limit on the pipeline, the requests running it and all those in flight.",
				Queries: []Query{
					{`sum by (rung) (rate(recmesh_shed_requests_total[1m]))`, "{{rung}}"},
					{`sum(recmesh_shed_limit)`, "limit"},
					{`sum(recmesh_shed_pipeline)`, "pipeline"},
					{`sum(recmesh_shed_inflight)`, "in flight"},
				}},
			{Title: "Shedding: overflow", Unit: "percentunit", Description: "Share of the last second's recommendation requests that overflowed to the popular list or a refusal. Above 10%, nobody skips ranking: the overload is past what skipping it absorbs, and the admitted requests run whole.",
				Queries: []Query{{`max(recmesh_shed_overflow_share)`, "overflow"}}},
			{Title: "List cache: hit ratio", Unit: "percentunit", Description: "Share of list-cache lookups served from a user's cached ranked list, in process (hit_l1) or from Redis (hit_l2); the rest ran the pipeline.",
				Queries: []Query{{`sum(rate(recmesh_list_cache_requests_total{result=~"hit_l1|hit_l2"}[1m])) / sum(rate(recmesh_list_cache_requests_total[1m]))`, "hit ratio"}}},
			{Title: "List cache: lookups", Unit: "reqps", Description: "List-cache lookups per second by result (hit_l1, hit_l2, miss, stale: older model versions or expired, exhausted: no page left), with the users invalidated by their own events (event) or by another replica's (remote), lists rebuilt by a pre-warm after a release or in the background (ahead of their end, or for a user shed to the popular list), lists not kept because their run started before their user's event (outdated), evictions by cause, and failed calls of the Redis level.",
				Queries: []Query{
					{`sum by (result) (rate(recmesh_list_cache_requests_total[1m]))`, "{{result}}"},
					{`sum by (reason) (rate(recmesh_list_cache_invalidations_total[1m]))`, "invalidated: {{reason}}"},
					{`sum(rate(recmesh_list_cache_prewarmed_total[1m]))`, "pre-warmed"},
					{`sum(rate(recmesh_list_cache_refreshed_total[1m]))`, "rebuilt in the background"},
					{`sum(rate(recmesh_list_cache_outdated_total[1m]))`, "outdated"},
					{`sum by (cause) (rate(recmesh_list_cache_evictions_total[1m]))`, "evicted: {{cause}}"},
					{`sum by (op) (rate(recmesh_list_cache_store_errors_total[1m]))`, "store errors: {{op}}"},
				}},
			{Title: "List cache: size", Unit: "bytes", Description: "Estimated memory of the in-process list cache (bounded by -list-cache-mib), and the users it holds.",
				Queries: []Query{{`sum(recmesh_list_cache_bytes)`, "bytes"}, {`sum(recmesh_list_cache_users)`, "users"}}},
			{Title: "Instances ready", Unit: "short", Stat: true, Description: "Instances whose readiness passes, by service: their gRPC health is SERVING, so Consul routes to them. Fewer than up: an instance cannot answer its contract (no model, no store).",
				Queries: []Query{{`sum by (job) (recmesh_service_ready)`, "{{job}}"}}},
		}}}}
}

// quantiles are p50, p95 and p99 of a histogram's bucket rates.
func quantiles(buckets string) []Query {
	var qs []Query
	for _, q := range []struct{ q, legend string }{{"0.5", "p50"}, {"0.95", "p95"}, {"0.99", "p99"}} {
		qs = append(qs, Query{fmt.Sprintf("histogram_quantile(%s, %s)", q.q, buckets), q.legend})
	}
	return qs
}

func hops() Dashboard {
	d := Dashboard{UID: "recmesh-hops", Title: "recmesh / hops",
		Description: "One row per hop of the recommendation path: the gateway's view (calls, latency, breaker, fallbacks, load per instance) and the service's own."}
	for _, h := range Hops {
		sel := fmt.Sprintf(`hop=%q`, h)
		d.Rows = append(d.Rows, Row{Title: h, Panels: []Panel{
			{Title: h + ": calls by outcome", Unit: "reqps", Description: "Calls from the gateways to " + h + ", by outcome: ok, business_error, error, timeout, canceled (the caller went away), circuit_open, rejected.",
				Queries: []Query{{`sum by (outcome) (rate(recmesh_hop_requests_total{` + sel + `}[1m]))`, "{{outcome}}"}}},
			{Title: h + ": latency", Unit: "s", Description: "Time the gateways spend in the " + h + " hop, p50, p95 and p99 (the hop's budget bounds it).",
				Queries: quantiles(`sum by (le) (rate(recmesh_hop_duration_seconds_bucket{` + sel + `}[1m]))`)},
			{Title: h + ": breaker", Unit: "short", Description: "1 while a gateway's breaker of " + h + " is open; state changes in the last 5 minutes.",
				Queries: []Query{
					{`max(recmesh_breaker_open{` + sel + `})`, "open"},
					{`sum by (state) (increase(recmesh_breaker_transitions_total{` + sel + `}[5m]))`, "to {{state}}"},
				}},
			{Title: h + ": fallbacks and retries", Unit: "reqps", Description: "Requests per second answered by the " + h + " fallback, and calls tried a second time after a timeout (within the request's budget and a 10% retry budget).",
				Queries: []Query{
					{`sum(rate(recmesh_hop_fallbacks_total{` + sel + `}[1m]))`, "fallbacks"},
					{`sum(rate(recmesh_hop_retries_total{` + sel + `}[1m]))`, "retries"},
				}},
			{Title: h + ": in flight per instance", Unit: "short", Description: "Requests in flight from the gateways to each " + h + " instance (the bounded-load ring keeps them even), and open connections.",
				Queries: []Query{
					{fmt.Sprintf(`sum by (target) (recmesh_hop_inflight{service=%q})`, h), "{{target}}"},
					{fmt.Sprintf(`sum(recmesh_hop_connections{service=%q})`, h), "connections"},
				}},
			{Title: h + ": served per instance", Unit: "reqps", Description: "gRPC calls each " + h + " instance handled, and those that failed (code other than OK).",
				Queries: []Query{
					{fmt.Sprintf(`sum by (instance) (rate(recmesh_rpc_server_requests_total{job=%q}[1m]))`, h), "{{instance}}"},
					{fmt.Sprintf(`sum by (instance) (rate(recmesh_rpc_server_requests_total{job=%q,code!="OK"}[1m])) or sum by (instance) (rate(recmesh_rpc_server_requests_total{job=%q}[1m])) * 0`, h, h), "{{instance}} errors"},
				}},
			{Title: h + ": handling time per instance", Unit: "s", Description: "p99 of the time each " + h + " instance spends on a call, without the network and queueing the gateway sees.",
				Queries: []Query{{fmt.Sprintf(`histogram_quantile(0.99, sum by (le, instance) (rate(recmesh_rpc_server_duration_seconds_bucket{job=%q}[1m])))`, h), "{{instance}}"}}},
		}})
	}
	return d
}

// storeRow is the latency, error and pool panels of one store.
func storeRow(store, name string) []Panel {
	sel := fmt.Sprintf(`store=%q`, store)
	return []Panel{
		{Title: name + " latency", Unit: "s", Description: "p99 of each " + name + " operation, from the services that use it.",
			Queries: []Query{{`histogram_quantile(0.99, sum by (le, op) (rate(recmesh_store_duration_seconds_bucket{` + sel + `}[5m])))`, "{{op}}"}}},
		{Title: name + " errors", Unit: "reqps", Description: "Failed " + name + " operations per second, by operation (0 while all succeed).",
			Queries: []Query{{`sum by (op) (rate(recmesh_store_errors_total{` + sel + `}[5m])) or sum by (op) (rate(recmesh_store_duration_seconds_count{` + sel + `}[5m])) * 0`, "{{op}}"}}},
		{Title: name + " connections", Unit: "short", Description: "Connections of each service's " + name + " pool, in use and idle.",
			Queries: []Query{{`sum by (job, state) (recmesh_store_connections{` + sel + `})`, "{{job}} {{state}}"}}},
	}
}

func stores() Dashboard {
	return Dashboard{UID: "recmesh-stores", Title: "recmesh / stores",
		Description: "PostgreSQL (catalogue, event log, experiments) and Redis (real-time state) as the services see them, the repair the event log needs, and how fresh each service's catalogue view is.",
		Rows: []Row{
			{Title: "PostgreSQL", Panels: storeRow("postgres", "PostgreSQL")},
			{Title: "Redis", Panels: storeRow("redis", "Redis")},
			{Title: "Repair", Panels: []Panel{
				{Title: "Events Redis missed", Unit: "short", Stat: true, Description: "Accepted events, durable in PostgreSQL, that Redis missed since each features instance started. Above 0, run recmesh replay.",
					Queries: []Query{{`sum(recmesh_features_redis_missed_events_total)`, "missed"}}},
				{Title: "History read from PostgreSQL", Unit: "reqps", Description: "History reads that PostgreSQL served because Redis failed.",
					Queries: []Query{{`sum(rate(recmesh_features_history_postgres_reads_total[5m]))`, "fallback reads"}}},
			}},
			{Title: "Catalogue", Panels: []Panel{
				{Title: "Catalogue view age", Unit: "s", Description: "Seconds since each recall, filter and gateway instance last synced its catalogue view with features (about -catalog-poll when healthy); a catalogue change reaches serving within it.",
					Queries: []Query{{`max by (job) (recmesh_catalog_age_seconds)`, "{{job}}"}}},
				{Title: "Catalogue view items", Unit: "short", Description: "Items in each service's catalogue view, retired ones included; instances of one service should agree.",
					Queries: []Query{{`max by (job) (recmesh_catalog_items)`, "{{job}}"}}},
				{Title: "Catalogue sync failures", Unit: "short", Description: "Failed catalogue polls in the last 5 minutes, by service; the view keeps its last state meanwhile.",
					Queries: []Query{{`sum by (job) (increase(recmesh_catalog_sync_failures_total[5m]))`, "{{job}}"}}},
			}},
		}}
}

func models() Dashboard {
	return Dashboard{UID: "recmesh-models", Title: "recmesh / models",
		Description: "Which model version each recall and ranking instance serves, how old it is, and how its reloads went.",
		Rows: []Row{{Title: "Models", Panels: []Panel{
			{Title: "Version served", Unit: "none", Stat: true, Description: "The model version each instance serves (the series' model_version label); instances of one service should agree.",
				Queries: []Query{{`max by (job, instance, model_version) (recmesh_model_info)`, "{{job}} {{instance}} {{model_version}}"}}},
			{Title: "Model age", Unit: "s", Description: "Time since the served version was trained, per instance.",
				Queries: []Query{{`time() - max by (job, instance) (recmesh_model_created_timestamp_seconds)`, "{{job}} {{instance}}"}}},
			{Title: "Since last load", Unit: "s", Description: "Time since each instance last swapped a model version in (or started with one).",
				Queries: []Query{{`time() - max by (job, instance) (recmesh_model_loaded_timestamp_seconds)`, "{{job}} {{instance}}"}}},
			{Title: "Reloads", Unit: "short", Description: "Newly published versions swapped in (ok) or refused (error) in the last hour.",
				Queries: []Query{{`sum by (job, outcome) (increase(recmesh_model_reloads_total[1h]))`, "{{job}} {{outcome}}"}}},
		}}}}
}

func runtime() Dashboard {
	sel := `{job!="prometheus"}`
	return Dashboard{UID: "recmesh-runtime", Title: "recmesh / Go runtime",
		Description: "The Go runtime of every recmesh process, by service and instance.",
		Rows: []Row{{Title: "Runtime", Panels: []Panel{
			{Title: "CPU", Unit: "percentunit", Description: "CPU used, in cores.",
				Queries: []Query{{`sum by (job, instance) (rate(process_cpu_seconds_total` + sel + `[1m]))`, "{{job}} {{instance}}"}}},
			{Title: "Resident memory", Unit: "bytes", Description: "Resident set size of the process.",
				Queries: []Query{{`sum by (job, instance) (process_resident_memory_bytes` + sel + `)`, "{{job}} {{instance}}"}}},
			{Title: "Heap in use", Unit: "bytes", Description: "Go heap in use.",
				Queries: []Query{{`sum by (job, instance) (go_memstats_heap_inuse_bytes` + sel + `)`, "{{job}} {{instance}}"}}},
			{Title: "Goroutines", Unit: "short", Description: "Live goroutines; a steady climb is a leak.",
				Queries: []Query{{`sum by (job, instance) (go_goroutines` + sel + `)`, "{{job}} {{instance}}"}}},
			{Title: "GC pause", Unit: "percentunit", Description: "Share of time spent in stop-the-world GC pauses.",
				Queries: []Query{{`sum by (job, instance) (rate(go_gc_duration_seconds_sum` + sel + `[1m]))`, "{{job}} {{instance}}"}}},
			{Title: "Open file descriptors", Unit: "short", Description: "Open file descriptors (sockets included) against the limit.",
				Queries: []Query{{`sum by (job, instance) (process_open_fds` + sel + `)`, "{{job}} {{instance}}"}}},
		}}}}
}

// byVariant is a sum per (layer, experiment, variant) of an experiment counter.
func byVariant(metric string) string {
	return `sum by (layer, experiment, variant) (` + metric + `)`
}

func experiments() Dashboard {
	legend := "{{layer}}/{{experiment}}/{{variant}}"
	return Dashboard{UID: "recmesh-experiments", Title: "recmesh / experiments",
		Description: "Per-variant numbers read from the exposure log (the same as GET .../results), the sample-ratio check, and the exposure log's own health.",
		Rows: []Row{
			{Title: "Results", Panels: []Panel{
				{Title: "CTR per variant", Unit: "percentunit", Description: "Exposures with an attributed click ÷ exposures, per variant, over each experiment's lifetime (intervals: the results route).",
					Queries: []Query{{byVariant("recmesh_experiment_clicks_total") + " / " + byVariant("recmesh_experiment_exposures_total"), legend}}},
				{Title: "Like rate per variant", Unit: "percentunit", Description: "Exposures with an attributed like ÷ exposures, per variant.",
					Queries: []Query{{byVariant("recmesh_experiment_likes_total") + " / " + byVariant("recmesh_experiment_exposures_total"), legend}}},
				{Title: "Users per variant", Unit: "short", Description: "Users exposed per variant; the holdout is variant=\"holdout\".",
					Queries: []Query{{byVariant("recmesh_experiment_users_total"), legend}}},
				{Title: "Exposures per variant", Unit: "short", Description: "Exposure rows (items shown) per variant.",
					Queries: []Query{{byVariant("recmesh_experiment_exposures_total"), legend}}},
				{Title: "SRM p-value", Unit: "short", Description: "Chi-square p-value of users per variant against the configured shares; below 0.001 the split is broken (alert RecmeshSampleRatioMismatch).",
					Queries: []Query{
						{`min by (layer, experiment) (recmesh_experiment_srm_p_value)`, "{{layer}}/{{experiment}}"},
						{`max by (layer, experiment) (recmesh_experiment_srm_alarm)`, "{{layer}}/{{experiment}} alarm"},
					}},
			}},
			{Title: "Exposure log", Panels: []Panel{
				{Title: "Exposure rows", Unit: "short", Description: "Rows per second offered to the gateways' exposure queues, written by features, and dropped (queue full or lost at shutdown).",
					Queries: []Query{
						{`sum(rate(recmesh_exposure_rows_queued_total[1m]))`, "queued"},
						{`sum(rate(recmesh_exposure_rows_written_total[1m]))`, "written"},
						{`sum(rate(recmesh_exposure_rows_dropped_total[1m]))`, "dropped"},
					}},
				{Title: "Exposure queue", Unit: "short", Description: "Replies waiting in each gateway's exposure queue, and failed batch writes (each is retried).",
					Queries: []Query{
						{`sum by (instance) (recmesh_exposure_queue_replies)`, "{{instance}}"},
						{`sum(rate(recmesh_exposure_write_failures_total[5m]))`, "write failures"},
					}},
			}},
		}}
}

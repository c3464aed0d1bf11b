package gateway

import (
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/telemetry"
)

//go:embed openapi.json
var openAPI []byte

// Handler returns the REST API. /metrics is served by the caller from reg.
func (g *Gateway) Handler(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/recommendations", g.api("recommendations", g.handleRecommend))
	mux.Handle("POST /v1/events", g.api("events", g.handleEvents))
	mux.Handle("GET /v1/items/{id}", g.api("items", g.handleItem))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := g.Ready(r.Context()); err != nil {
			apierr.WriteHTTP(w, &apierr.Error{Kind: apierr.KindUnavailable, Message: err.Error()})
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apierr.WriteHTTP(w, apierr.NotFound("no route for %s %s; see /openapi.json", r.Method, r.URL.Path))
	})
	return mux
}

type apiFunc func(w http.ResponseWriter, r *http.Request) (any, error)

// api wraps a handler with the request id, the root span, admission,
// metrics and the one error-to-status mapping.
func (g *Gateway) api(route string, f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx := telemetry.Propagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := g.tracer.Start(ctx, r.Method+" /v1/"+route, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		id := requestID(r.Header.Get("X-Request-ID"))
		ctx = rlog.WithRequestID(ctx, id)
		span.SetAttributes(attribute.String("request_id", id))
		w.Header().Set("X-Request-ID", id)
		r = r.WithContext(ctx)

		var body any
		err := g.admit(r)
		if err == nil {
			body, err = f(w, r)
		}
		status := http.StatusOK
		if err != nil {
			if _, ok := apierr.As(err); !ok {
				g.log.ErrorContext(ctx, "request failed", "route", route, "err", err)
				err = &apierr.Error{Kind: apierr.KindUnavailable, Message: "a downstream service is unavailable; retry later"}
			}
			e, _ := apierr.As(err)
			status = e.HTTPStatus()
			span.SetStatus(codes.Error, e.Code())
			apierr.WriteHTTP(w, err)
		} else {
			if rep, ok := body.(*Reply); ok {
				rep.RequestID, rep.TraceID = id, span.SpanContext().TraceID().String()
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(body)
		}
		g.http.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		g.http.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

func (g *Gateway) handleRecommend(_ http.ResponseWriter, r *http.Request) (any, error) {
	q := r.URL.Query()
	n := 10
	if s := q.Get("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			return nil, apierr.Invalid("n must be an integer between 1 and 100")
		}
		n = v
	}
	rep, err := g.Recommend(r.Context(), q.Get("user_id"), n)
	if err != nil {
		return nil, err
	}
	return &rep, nil
}

// EventsRequest is the body of POST /v1/events.
type EventsRequest struct {
	Events []domain.Event `json:"events"`
}

// EventsReply is the answer to POST /v1/events.
type EventsReply struct {
	Accepted int `json:"accepted"`
}

func (g *Gateway) handleEvents(w http.ResponseWriter, r *http.Request) (any, error) {
	body, err := apierr.ReadBody(w, r, int64(g.cfg.MaxBodyBytes))
	if err != nil {
		return nil, err
	}
	req, err := decodeEvents(body)
	if err != nil {
		return nil, err
	}
	n, err := g.hops.Features.IngestEvents(r.Context(), req.Events)
	if err != nil {
		// Business errors are 4xx; anything else becomes 503 with
		// Retry-After, so the client retries: nothing is dropped silently.
		return nil, err
	}
	return EventsReply{Accepted: n}, nil
}

// decodeEvents parses a POST /v1/events body strictly: one JSON object,
// no unknown fields. Validation of each event is the features service's.
func decodeEvents(body []byte) (EventsRequest, error) {
	var req EventsRequest
	if err := apierr.DecodeStrict(body, &req, "events batch"); err != nil {
		return EventsRequest{}, err
	}
	return req, nil
}

func (g *Gateway) handleItem(_ http.ResponseWriter, r *http.Request) (any, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, apierr.Invalid("item id must be a positive integer")
	}
	return g.hops.Features.GetItem(r.Context(), id)
}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID keeps a caller's well-formed X-Request-ID or makes a new one.
func requestID(in string) string {
	if requestIDRE.MatchString(in) {
		return in
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func parseKeys(s string) map[string]bool {
	keys := map[string]bool{}
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys[k] = true
		}
	}
	return keys
}

// admit checks the API key (when keys are configured) and the key's rate limit.
func (g *Gateway) admit(r *http.Request) error {
	key := "anonymous"
	if len(g.keys) > 0 {
		key = r.Header.Get("X-API-Key")
		if key == "" {
			key = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		if !g.keys[key] {
			return &apierr.Error{Kind: apierr.KindUnauthenticated, Message: "a valid API key is required in X-API-Key"}
		}
	}
	if !g.limiter.allow(key) {
		return &apierr.Error{Kind: apierr.KindRateLimited, Message: "rate limit exceeded; slow down"}
	}
	return nil
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recmesh_http_requests_total", Help: "REST requests by route and status.",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "recmesh_http_request_duration_seconds", Help: "REST request latency by route.", Buckets: telemetry.LatencyBuckets,
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

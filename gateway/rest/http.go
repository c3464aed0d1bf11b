// Package rest is the gateway's public REST transport: routes, JSON,
// API keys, the per-key rate limit, request ids, the root span and the HTTP
// metrics. It calls the orchestrator (package gateway) and knows nothing of
// hops, breakers or fallbacks.
package rest

import (
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
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

	"github.com/recmesh/recmesh/gateway"
	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/config"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/telemetry"
)

// Config is the REST transport's configuration.
type Config struct {
	// Addr is the REST listen address.
	Addr string
	// APIKeys, comma-separated, each key[:scope[+scope]] with scopes read
	// and write (a key without scopes has both); empty switches
	// authentication off.
	APIKeys string `secret:"true"`
	// RateLimit is requests per second per API key, or per client address
	// when keys are off; 0 switches it off.
	RateLimit int
	// ClientIPHeader names a header a trusted proxy sets to the client's
	// address (X-Forwarded-For: its last entry); empty uses the connection's
	// address. Only set it behind a proxy that overwrites the header.
	ClientIPHeader string
	// MaxBodyBytes bounds POST bodies.
	MaxBodyBytes int
}

// DefaultConfig returns the defaults listed in the README.
func DefaultConfig() Config { return Config{Addr: "127.0.0.1:8080", MaxBodyBytes: 1 << 20} }

// Bind registers the transport's flags (with RECMESH_* environment defaults).
func (c *Config) Bind(f *config.Flags) {
	d := DefaultConfig()
	f.String(&c.Addr, "http-addr", d.Addr, "gateway REST listen address")
	f.String(&c.APIKeys, "api-keys", "", "comma-separated API keys, each key[:read|:write|:read+write] (no scope: both); empty switches authentication off")
	f.Int(&c.RateLimit, "rate-limit", 0, "requests per second per API key, or per client address when keys are off; 0 switches rate limiting off")
	f.String(&c.ClientIPHeader, "client-ip-header", "", "header a trusted proxy sets to the client's address, for per-client rate limits (X-Forwarded-For: its last entry); empty: the connection's address")
	f.Int(&c.MaxBodyBytes, "max-body-bytes", d.MaxBodyBytes, "largest accepted POST body")
}

// Validate checks the config.
func (c *Config) Validate() error {
	if c.RateLimit < 0 || c.MaxBodyBytes <= 0 {
		return fmt.Errorf("rate limit must be ≥ 0 and the body size positive")
	}
	_, err := parseKeys(c.APIKeys)
	return err
}

// Options are what the transport is given besides its config.
type Options struct {
	// Metrics receives the HTTP metrics.
	Metrics prometheus.Registerer
	Tracer  trace.TracerProvider
	Log     *slog.Logger
	// Channels are the recall channels, listed in the OpenAPI document's
	// sources enum (recall.ChannelNames).
	Channels []string
}

//go:embed openapi.json
var openAPITemplate []byte

// API is the REST transport over one orchestrator.
type API struct {
	g       *gateway.Gateway
	cfg     Config
	log     *slog.Logger
	tracer  trace.Tracer
	http    *httpMetrics
	limiter *limiter
	keys    map[string]scopes
	openAPI []byte
}

// New returns the REST API over g.
func New(g *gateway.Gateway, cfg Config, o Options) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	doc, err := openAPIDocument(o.Channels)
	if err != nil {
		return nil, err
	}
	keys, err := parseKeys(cfg.APIKeys)
	if err != nil {
		return nil, err
	}
	return &API{
		g: g, cfg: cfg, log: o.Log, tracer: o.Tracer.Tracer("recmesh/gateway"), http: newHTTPMetrics(o.Metrics),
		limiter: newLimiter(cfg.RateLimit), keys: keys, openAPI: doc,
	}, nil
}

// openAPIDocument fills the template's enums that derive from code: the
// recall channels, the error codes and what degraded may name.
func openAPIDocument(channels []string) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPITemplate, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	codes := make([]string, 0, len(apierr.Kinds()))
	for _, k := range apierr.Kinds() {
		codes = append(codes, (&apierr.Error{Kind: k}).Code())
	}
	schemas := dig(doc, "components", "schemas")
	for path, values := range map[string][]string{
		"Item.properties.sources.items":             channels,
		"Error.properties.error.properties.code":    codes,
		"Recommendations.properties.degraded.items": gateway.DegradedNames(channels),
	} {
		node := dig(schemas, strings.Split(path, ".")...)
		if node == nil {
			return nil, fmt.Errorf("openapi.json has no %s", path)
		}
		node["enum"] = values
	}
	return json.Marshal(doc)
}

// dig walks nested JSON objects; nil when a key is missing.
func dig(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}

// Handler returns the REST API's routes; metrics serves /metrics.
func (a *API) Handler(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/recommendations", a.api("recommendations", scopeRead, a.handleRecommend))
	mux.Handle("POST /v1/events", a.api("events", scopeWrite, a.handleEvents))
	mux.Handle("GET /v1/items/{id}", a.api("items", scopeRead, a.handleItem))
	mux.Handle("GET /v1/items/{id}/similar", a.api("similar", scopeRead, a.handleSimilar))
	mux.Handle("PUT /v1/items/{id}", a.api("items", scopeWrite, a.handlePutItem))
	mux.Handle("PATCH /v1/items/{id}", a.api("items", scopeWrite, a.handlePatchItem))
	mux.Handle("DELETE /v1/items/{id}", a.api("items", scopeWrite, a.handleDeleteItem))
	mux.Handle("POST /v1/items", a.api("items", scopeWrite, a.handlePostItems))
	mux.Handle("GET /v1/users/{id}", a.api("users", scopeRead, a.handleGetUser))
	mux.Handle("PUT /v1/users/{id}", a.api("users", scopeWrite, a.handlePutUser))
	mux.Handle("DELETE /v1/users/{id}", a.api("users", scopeWrite, a.handleDeleteUser))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := a.g.Ready(r.Context()); err != nil {
			apierr.WriteHTTP(w, apierr.New(apierr.KindUnavailable, "%v", err))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(a.openAPI)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apierr.WriteHTTP(w, apierr.NotFound("no route for %s %s; see /openapi.json", r.Method, r.URL.Path))
	})
	return mux
}

// PreviewHeader ("1") asks for a reply that is not logged as an exposure:
// the operator console's "try a user" sends it (console.PreviewHeader).
const PreviewHeader = "X-Recmesh-Preview"

type apiFunc func(w http.ResponseWriter, r *http.Request) (any, error)

// api wraps a handler with the request id, the root span, admission (an
// API key with scope need), metrics and the one error-to-status mapping.
func (a *API) api(route string, need scopes, f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// A caller's trace is continued, but its baggage is dropped: inside
		// the mesh, baggage carries the variants (ab.<layer>), and only the
		// gateway may set them.
		ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := a.tracer.Start(ctx, r.Method+" /v1/"+route, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		id := requestID(r.Header.Get("X-Request-ID"))
		ctx = rlog.WithRequestID(ctx, id)
		span.SetAttributes(attribute.String("request_id", id))
		w.Header().Set("X-Request-ID", id)
		r = r.WithContext(ctx)

		var body any
		err := a.admit(r, need)
		if err == nil {
			body, err = f(w, r)
		}
		status := http.StatusOK
		if err != nil {
			e := apierr.Business(err)
			if e == nil {
				a.log.ErrorContext(ctx, "request failed", "route", route, "err", err)
				e = &apierr.Error{Kind: apierr.KindUnavailable, Message: "a downstream service is unavailable; retry later"}
			}
			status = e.HTTPStatus()
			span.SetStatus(codes.Error, e.Code())
			apierr.WriteHTTP(w, e)
		} else {
			if rep, ok := body.(*gateway.Reply); ok {
				rep.RequestID, rep.TraceID = id, span.SpanContext().TraceID().String()
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(body)
		}
		a.http.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		a.http.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
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

package experiment

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/services/experiment/store"
)

// Admin is the experiment service's admin REST API. Every route needs
// "Authorization: Bearer <token>". Changes are applied by the store in one
// transaction (validated, versioned, audited, or not written at all) and
// served at once; other instances pick them up from the store.
//
//	GET    /admin/v1/config
//	GET    /admin/v1/audit?limit=50
//	PUT    /admin/v1/defaults                                       abtest.Params, every field
//	PATCH  /admin/v1/defaults                                       abtest.Params, the fields to change
//	POST   /admin/v1/layers                                         LayerRequest
//	POST   /admin/v1/layers/{layer}/experiments                     ExperimentRequest
//	DELETE /admin/v1/layers/{layer}/experiments/{exp}
//	PATCH  /admin/v1/layers/{layer}/experiments/{exp}/variants/{v}  VariantUpdate
//	PUT    /admin/v1/layers/{layer}/experiments/{exp}/overrides/{user}  OverrideRequest
//	DELETE /admin/v1/layers/{layer}/experiments/{exp}/overrides/{user}
//	GET    /admin/v1/layers/{layer}/experiments/{exp}/results?since=  Results
//	PUT    /admin/v1/holdout                                        HoldoutRequest
//	POST   /admin/v1/launches                                       LaunchRequest
//	PATCH  /admin/v1/launches/{launch}                              LaunchUpdate
//	DELETE /admin/v1/launches/{launch}
//	POST   /admin/v1/domains                                        DomainRequest
//	PATCH  /admin/v1/domains/{domain}                               DomainUpdate
type Admin struct {
	Store   store.Store
	Configs *Configs
	// Token guards every route; empty switches the admin API off (403). It
	// is one bare token, or name:token pairs (see ParseAdminTokens): a
	// change is audited under the name of the token it was made with.
	Token string `secret:"true"`
	Log   *slog.Logger
	// Rules are checked on every change, against the whole config it
	// leads to; a change that breaks them writes nothing.
	Rules abtest.ParamRules
	// Exposures answers results from the exposure log; nil makes the
	// results route answer 503.
	Exposures ExposureStats
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	// parsed caches Token parsed, for as long as Token is the same.
	parsed atomic.Pointer[parsedTokens]
}

type parsedTokens struct {
	from   string
	tokens []AdminToken
}

// MaxAdminBody bounds an admin request body.
const MaxAdminBody = 1 << 20

// Register mounts the admin routes on mux.
func (a *Admin) Register(mux *http.ServeMux) {
	const exp = "/admin/v1/layers/{layer}/experiments/{exp}"
	mux.Handle("GET /admin/v1/config", a.handle(func(r *http.Request, _ []byte) (any, error) {
		return a.Configs.GetConfig(r.Context())
	}))
	mux.Handle("GET /admin/v1/audit", a.handle(func(r *http.Request, _ []byte) (any, error) {
		limit := 50
		if s := r.URL.Query().Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 1000 {
				return nil, apierr.Invalid("limit must be an integer in [1,1000]")
			}
			limit = n
		}
		entries, err := a.Store.Audit(r.Context(), limit)
		return map[string]any{"entries": entries}, err
	}))
	mux.Handle("GET "+exp+"/results", a.handle(func(r *http.Request, _ []byte) (any, error) {
		since, err := parseSince(r.URL.Query().Get("since"), a.now())
		if err != nil {
			return nil, err
		}
		if a.Exposures == nil {
			return nil, apierr.New(apierr.KindUnavailable, "no exposure log is reachable from this experiment service")
		}
		cfg, _ := a.Configs.GetConfig(r.Context())
		return ComputeResults(r.Context(), a.Exposures, cfg, r.PathValue("layer"), r.PathValue("exp"), since)
	}))
	mux.Handle("PUT /admin/v1/holdout", a.change("set_holdout", func(r *http.Request, body []byte) (any, func(*abtest.Config) error, error) {
		var req HoldoutRequest
		err := apierr.DecodeStrict(body, &req, "holdout")
		return req, SetHoldout(req), err
	}))
	mux.Handle("POST /admin/v1/launches", a.change("add_launch", func(r *http.Request, body []byte) (any, func(*abtest.Config) error, error) {
		var req LaunchRequest
		err := apierr.DecodeStrict(body, &req, "launch")
		return req, AddLaunch(req), err
	}))
	mux.Handle("PATCH /admin/v1/launches/{launch}", a.change("update_launch", func(r *http.Request, body []byte) (any, func(*abtest.Config) error, error) {
		var req LaunchUpdate
		err := apierr.DecodeStrict(body, &req, "launch update")
		return req, UpdateLaunch(r.PathValue("launch"), req), err
	}))
	mux.Handle("DELETE /admin/v1/launches/{launch}", a.change("delete_launch", func(r *http.Request, _ []byte) (any, func(*abtest.Config) error, error) {
		return nil, DeleteLaunch(r.PathValue("launch")), nil
	}))
	mux.Handle("POST /admin/v1/domains", a.change("add_domain", func(r *http.Request, body []byte) (any, func(*abtest.Config) error, error) {
		var req DomainRequest
		err := apierr.DecodeStrict(body, &req, "domain")
		return req, AddDomain(req), err
	}))
	mux.Handle("PATCH /admin/v1/domains/{domain}", a.change("update_domain", func(r *http.Request, body []byte) (any, func(*abtest.Config) error, error) {
		var req DomainUpdate
		err := apierr.DecodeStrict(body, &req, "domain update")
		return req, UpdateDomain(r.PathValue("domain"), req), err
	}))
	mux.Handle("PUT /admin/v1/defaults", a.change("set_defaults", func(r *http.Request, body []byte) (any, func(*abtest.Config) error, error) {
		var p abtest.Params
		err := apierr.DecodeStrict(body, &p, "params object")
		if err == nil {
			err = requireFields(body, "recall_quotas", "ranking_weights", "max_per_genre")
		}
		return p, SetDefaults(p), err
	}))
	mux.Handle("PATCH /admin/v1/defaults", a.change("patch_defaults", func(r *http.Request, body []byte) (any, func(*abtest.Config) error, error) {
		var p abtest.Params
		err := apierr.DecodeStrict(body, &p, "params object")
		return p, PatchDefaults(p), err
	}))
	mux.Handle("POST /admin/v1/layers", a.change("add_layer", func(r *http.Request, body []byte) (any, func(*abtest.Config) error, error) {
		var req LayerRequest
		err := apierr.DecodeStrict(body, &req, "layer")
		return req, AddLayer(req), err
	}))
	mux.Handle("POST /admin/v1/layers/{layer}/experiments", a.change("add_experiment", func(r *http.Request, body []byte) (any, func(*abtest.Config) error, error) {
		var req ExperimentRequest
		err := apierr.DecodeStrict(body, &req, "experiment")
		return req, AddExperiment(r.PathValue("layer"), req), err
	}))
	mux.Handle("DELETE "+exp, a.change("delete_experiment", func(r *http.Request, _ []byte) (any, func(*abtest.Config) error, error) {
		return nil, DeleteExperiment(r.PathValue("layer"), r.PathValue("exp")), nil
	}))
	mux.Handle("PATCH "+exp+"/variants/{variant}", a.change("update_variant", func(r *http.Request, body []byte) (any, func(*abtest.Config) error, error) {
		var u VariantUpdate
		err := apierr.DecodeStrict(body, &u, "variant update")
		return u, UpdateVariant(r.PathValue("layer"), r.PathValue("exp"), r.PathValue("variant"), u), err
	}))
	mux.Handle("PUT "+exp+"/overrides/{user}", a.change("set_override", func(r *http.Request, body []byte) (any, func(*abtest.Config) error, error) {
		var req OverrideRequest
		err := apierr.DecodeStrict(body, &req, "override")
		if err == nil && req.Variant == "" {
			err = apierr.Invalid("an override needs a variant; DELETE removes one")
		}
		return req, SetOverride(r.PathValue("layer"), r.PathValue("exp"), r.PathValue("user"), req), err
	}))
	mux.Handle("DELETE "+exp+"/overrides/{user}", a.change("delete_override", func(r *http.Request, _ []byte) (any, func(*abtest.Config) error, error) {
		return nil, SetOverride(r.PathValue("layer"), r.PathValue("exp"), r.PathValue("user"), OverrideRequest{}), nil
	}))
}

// change adapts a route that edits the config: decode yields the audit
// detail and the change, which Apply makes.
func (a *Admin) change(action string, decode func(*http.Request, []byte) (any, func(*abtest.Config) error, error)) http.Handler {
	return a.handle(func(r *http.Request, body []byte) (any, error) {
		detail, apply, err := decode(r, body)
		if err != nil {
			return nil, err
		}
		// The actor is the holder of the token the request came with; no
		// header can claim another name.
		actor := actorOf(r.Context())
		path := map[string]string{}
		for _, k := range []string{"layer", "exp", "variant", "user", "launch", "domain"} {
			if v := r.PathValue(k); v != "" {
				path[k] = v
			}
		}
		return a.Apply(r.Context(), actor, action, map[string]any{"path": path, "request": detail}, apply)
	})
}

// Apply makes one change: the store applies it to the current config,
// checks the rules against the whole result, versions and audits it in one
// transaction (or writes nothing), and the new config is served at once.
func (a *Admin) Apply(ctx context.Context, actor, action string, detail any, apply func(*abtest.Config) error) (*abtest.Config, error) {
	checked := func(c *abtest.Config) error {
		if err := apply(c); err != nil {
			return err
		}
		return a.Rules.CheckConfig(c)
	}
	cfg, err := a.Store.Update(ctx, store.Change{Actor: actor, Action: action, Detail: detail, Apply: checked})
	if err != nil {
		return nil, err
	}
	if err := a.Configs.Set(cfg); err != nil {
		return nil, err
	}
	a.Log.InfoContext(ctx, "experiment config changed", "action", action, "actor", actor, "version", cfg.Version)
	return cfg, nil
}

// Identify returns the name of the holder of token (constant time), and
// whether it is an admin token at all; an empty Token authorizes nothing.
// A Token that does not parse authorizes nothing either (the component
// refuses to start with one).
func (a *Admin) Identify(token string) (string, bool) {
	return identify(a.Tokens(), token)
}

// Tokens are the configured admin credentials (none when Token does not
// parse), parsed once per value of Token.
func (a *Admin) Tokens() []AdminToken {
	if p := a.parsed.Load(); p != nil && p.from == a.Token {
		return p.tokens
	}
	tokens, _ := ParseAdminTokens(a.Token)
	a.parsed.Store(&parsedTokens{from: a.Token, tokens: tokens})
	return tokens
}

// handle authenticates, reads the body and writes the JSON reply or error.
func (a *Admin) handle(f func(*http.Request, []byte) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, err := a.authorize(r)
		if err != nil {
			apierr.WriteHTTP(w, err)
			return
		}
		r = r.WithContext(withActor(r.Context(), actor))
		body, err := apierr.ReadBody(w, r, MaxAdminBody)
		var out any
		if err == nil {
			out, err = f(r, body)
		}
		if err != nil {
			if _, ok := apierr.As(err); !ok {
				a.Log.ErrorContext(r.Context(), "admin request failed", "path", r.URL.Path, "err", err)
			}
			apierr.WriteHTTP(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}

// authorize admits a request with an admin token and returns its holder.
func (a *Admin) authorize(r *http.Request) (string, error) {
	if a.Token == "" {
		return "", &apierr.Error{Kind: apierr.KindForbidden, Message: "the admin API is off: start the experiment service with -admin-token"}
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return "", &apierr.Error{Kind: apierr.KindUnauthenticated, Message: "missing Authorization: Bearer <admin token>"}
	}
	name, ok := a.Identify(got)
	if !ok {
		return "", &apierr.Error{Kind: apierr.KindForbidden, Message: "wrong admin token"}
	}
	return name, nil
}

// requireFields refuses a JSON object that lacks any of fields: a PUT
// replaces the whole object, so a missing field would silently reset it
// (use PATCH to change some fields).
func requireFields(body []byte, fields ...string) error {
	var present map[string]json.RawMessage
	if err := json.Unmarshal(body, &present); err != nil {
		return apierr.Invalid("the body is not a JSON object")
	}
	for _, f := range fields {
		if _, ok := present[f]; !ok {
			return apierr.Invalid("%s is missing: PUT replaces every default (%s); PATCH changes only the fields it names", f, strings.Join(fields, ", "))
		}
	}
	return nil
}

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// parseSince reads ?since=: an RFC 3339 time, or a duration back from now
// ("24h"); empty means the experiment's whole lifetime.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, apierr.Invalid("since must be an RFC 3339 time (2026-11-29T12:00:00Z) or a positive duration back from now (24h)")
}

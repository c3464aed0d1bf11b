// Package console is the operator console: server-rendered pages on the
// experiment service's admin port, behind the admin token. It shows the
// layers (with their bucket maps), the holdout, launches and domains;
// creates, ramps and stops experiments; shows an experiment's results with
// intervals and the SRM flag; the audit log; and "try a user": the user's
// assignment in every layer and their live recommendation list.
//
// Sign-in exchanges an admin token for a cookie holding its holder's name
// and an HMAC keyed by the token (HttpOnly, SameSite=Strict); forms are
// accepted only from the console's own origin. Changes go through the same
// store transaction, rules and audit log as the admin API, with the actor
// "console:<holder>".
package console

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/services/experiment"
)

//go:embed templates/*.html
var files embed.FS

// PreviewHeader asks the gateway not to log a reply as an exposure: a
// preview must not count in results nor change what the user sees next.
const PreviewHeader = "X-Recmesh-Preview"

const cookieName = "recmesh-console"

// Console serves the operator console.
type Console struct {
	Admin *experiment.Admin
	// Gateway returns the gateway's base URL for "try a user" ("" when
	// none is known).
	Gateway func(context.Context) string
	// APIKey is sent to the gateway when it requires one.
	APIKey string `secret:"true"`
	Log    *slog.Logger
	// Client calls the gateway (http.DefaultClient with a 5 s timeout when nil).
	Client *http.Client

	tmpl *template.Template
}

// Register mounts the console under /console/ on mux.
func (c *Console) Register(mux *http.ServeMux) error {
	t, err := template.New("").Funcs(funcs).ParseFS(files, "templates/*.html")
	if err != nil {
		return err
	}
	c.tmpl = t
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 5 * time.Second}
	}
	mux.HandleFunc("GET /console/login", c.loginPage)
	mux.Handle("POST /console/login", limitForm(http.HandlerFunc(c.login)))
	mux.HandleFunc("POST /console/logout", c.logout)
	mux.Handle("GET /console/{$}", c.page(c.overview))
	mux.Handle("GET /console/layers/{layer}/experiments/{exp}", c.page(c.results))
	mux.Handle("GET /console/audit", c.page(c.audit))
	mux.Handle("GET /console/try", c.page(c.try))
	mux.Handle("POST /console/layers/{layer}/experiments", c.form(c.create))
	mux.Handle("POST /console/layers/{layer}/experiments/{exp}/variants/{variant}", c.form(c.ramp))
	mux.Handle("POST /console/layers/{layer}/experiments/{exp}/stop", c.form(c.stop))
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/console/", http.StatusFound) })
	return nil
}

// session is the cookie value for the holder of an admin token: the name
// and an HMAC keyed by the token, so the token itself never sits in the
// browser.
func session(t experiment.AdminToken) string {
	m := hmac.New(sha256.New, []byte(t.Token))
	m.Write([]byte("recmesh-console-v2|" + t.Name))
	return t.Name + "." + hex.EncodeToString(m.Sum(nil))
}

// signedIn returns the holder the request's cookie names, if it is valid.
func (c *Console) signedIn(r *http.Request) (string, bool) {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return "", false
	}
	name, _, _ := strings.Cut(ck.Value, ".")
	for _, t := range c.Admin.Tokens() {
		if t.Name == name && hmac.Equal([]byte(ck.Value), []byte(session(t))) {
			return name, true
		}
	}
	return "", false
}

// actor is what the audit log records for a console change.
func actor(r *http.Request) string { return "console:" + actorName(r.Context()) }

type holderKey struct{}

func actorName(ctx context.Context) string {
	name, _ := ctx.Value(holderKey{}).(string)
	return name
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "login", map[string]any{"Error": r.URL.Query().Get("error"), "Off": c.Admin.Token == ""})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "cross-origin form refused", http.StatusForbidden)
		return
	}
	name, ok := c.Admin.Identify(r.PostFormValue("token"))
	if !ok {
		c.render(w, http.StatusUnauthorized, "login", map[string]any{"Error": "wrong admin token", "Off": c.Admin.Token == ""})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: session(experiment.AdminToken{Name: name, Token: r.PostFormValue("token")}), Path: "/console", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: 12 * 3600})
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/console", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// MaxFormBytes bounds a console form (the params of a new experiment are
// the largest field).
const MaxFormBytes = 64 << 10

// limitForm bounds the body a form handler may read; a larger one fails to
// parse, and the handler sees empty fields.
func limitForm(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
		h.ServeHTTP(w, r)
	})
}

// sameOrigin refuses a form posted from another site: the Origin (or
// Referer) header must name this host.
func sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	if src == "" {
		return false
	}
	u, err := url.Parse(src)
	return err == nil && u.Host == r.Host
}

// view is what a page handler returns: the template and its data.
type view struct {
	name   string
	data   map[string]any
	status int
}

func (c *Console) page(f func(*http.Request) (view, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := c.signedIn(r); !ok {
			http.Redirect(w, r, "/console/login", http.StatusSeeOther)
			return
		}
		v, err := f(r)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if v.status == 0 {
			v.status = http.StatusOK
		}
		c.render(w, v.status, v.name, v.data)
	})
}

// form handles a POST that changes the config, then returns to the page
// the form was on (or shows the error there).
func (c *Console) form(f func(*http.Request) (string, error)) http.Handler {
	return limitForm(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := c.signedIn(r)
		if !ok {
			http.Redirect(w, r, "/console/login", http.StatusSeeOther)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), holderKey{}, name))
		if !sameOrigin(r) {
			http.Error(w, "cross-origin form refused", http.StatusForbidden)
			return
		}
		next, err := f(r)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	}))
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := apierr.Business(err)
	if e == nil {
		c.Log.ErrorContext(r.Context(), "console request failed", "path", r.URL.Path, "err", err)
		e = &apierr.Error{Kind: apierr.KindUnavailable, Message: err.Error()}
	}
	c.render(w, e.HTTPStatus(), "error", map[string]any{"Code": e.Code(), "Message": e.Message, "Back": r.Referer()})
}

func (c *Console) render(w http.ResponseWriter, status int, name string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["Page"] = name
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	if err := c.tmpl.ExecuteTemplate(w, name+".html", data); err != nil {
		c.Log.Error("console template", "page", name, "err", err)
	}
}

func (c *Console) config(ctx context.Context) (*abtest.Config, error) {
	return c.Admin.Configs.GetConfig(ctx)
}

func (c *Console) overview(r *http.Request) (view, error) {
	cfg, err := c.config(r.Context())
	if err != nil {
		return view{}, err
	}
	var layers []layerView
	for _, l := range cfg.Layers {
		layers = append(layers, newLayerView(l, ""))
	}
	for _, d := range cfg.Domains {
		for _, l := range d.Layers {
			layers = append(layers, newLayerView(l, d.Name))
		}
	}
	return view{name: "overview", data: map[string]any{"Config": cfg, "Layers": layers, "Domains": domainMap(cfg)}}, nil
}

func (c *Console) results(r *http.Request) (view, error) {
	cfg, err := c.config(r.Context())
	if err != nil {
		return view{}, err
	}
	if c.Admin.Exposures == nil {
		return view{}, apierr.New(apierr.KindUnavailable, "no exposure log is reachable from this experiment service")
	}
	res, err := experiment.ComputeResults(r.Context(), c.Admin.Exposures, cfg, r.PathValue("layer"), r.PathValue("exp"), time.Time{})
	if err != nil {
		return view{}, err
	}
	return view{name: "results", data: map[string]any{"R": res}}, nil
}

func (c *Console) audit(r *http.Request) (view, error) {
	entries, err := c.Admin.Store.Audit(r.Context(), 100)
	if err != nil {
		return view{}, err
	}
	return view{name: "audit", data: map[string]any{"Entries": entries}}, nil
}

// tryReply is the part of a gateway reply the try page shows.
type tryReply struct {
	RequestID    string              `json:"request_id"`
	ModelVersion string              `json:"model_version"`
	Items        []tryItem           `json:"items"`
	Experiments  []abtest.Assignment `json:"experiments"`
	Degraded     []string            `json:"degraded"`
}

type tryItem struct {
	ItemID  int64    `json:"item_id"`
	Title   string   `json:"title"`
	Score   float64  `json:"score"`
	Sources []string `json:"sources"`
}

func (c *Console) try(r *http.Request) (view, error) {
	user := strings.TrimSpace(r.URL.Query().Get("user_id"))
	data := map[string]any{"User": user}
	if user == "" {
		return view{name: "try", data: data}, nil
	}
	cfg, err := c.config(r.Context())
	if err != nil {
		return view{}, err
	}
	a, err := abtest.NewAssigner(cfg)
	if err != nil {
		return view{}, err
	}
	data["Assign"] = a.Assign(user)
	base := ""
	if c.Gateway != nil {
		base = c.Gateway(r.Context())
	}
	if base == "" {
		data["GatewayError"] = "no gateway is known to this experiment service (set -console-gateway)"
		return view{name: "try", data: data}, nil
	}
	rep, err := c.recommend(r.Context(), base, user)
	if err != nil {
		data["GatewayError"] = err.Error()
	} else {
		data["Reply"] = rep
	}
	return view{name: "try", data: data}, nil
}

func (c *Console) recommend(ctx context.Context, base, user string) (*tryReply, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/recommendations?n=20&user_id="+url.QueryEscape(user), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(PreviewHeader, "1")
	if c.APIKey != "" {
		req.Header.Set("X-API-Key", c.APIKey)
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("gateway %s: %w", base, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("gateway answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var rep tryReply
	if err := json.Unmarshal(body, &rep); err != nil {
		return nil, fmt.Errorf("gateway reply: %w", err)
	}
	return &rep, nil
}

// create makes an experiment from the form: name, traffic (buckets) and
// variants as "name:share" pairs, e.g. "control:50, treatment:50".
func (c *Console) create(r *http.Request) (string, error) {
	layer := r.PathValue("layer")
	traffic, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("traffic")))
	if err != nil {
		return "", apierr.Invalid("traffic must be a whole number of buckets (0–%d)", abtest.NumBuckets)
	}
	req := experiment.ExperimentRequest{Name: strings.TrimSpace(r.PostFormValue("name")), Traffic: traffic}
	for _, part := range strings.Split(r.PostFormValue("variants"), ",") {
		name, share, ok := strings.Cut(strings.TrimSpace(part), ":")
		n, err := strconv.Atoi(strings.TrimSpace(share))
		if !ok || err != nil || strings.TrimSpace(name) == "" {
			return "", apierr.Invalid("variants are name:share pairs separated by commas, e.g. control:50, treatment:50")
		}
		v := experiment.VariantRequest{Name: strings.TrimSpace(name), Share: n}
		req.Variants = append(req.Variants, v)
	}
	if p := strings.TrimSpace(r.PostFormValue("params")); p != "" {
		// params of the last variant (the treatment), as JSON
		var params abtest.Params
		if err := apierr.DecodeStrict([]byte(p), &params, "params"); err != nil {
			return "", err
		}
		req.Variants[len(req.Variants)-1].Params = params
	}
	_, err = c.Admin.Apply(r.Context(), actor(r), "add_experiment",
		map[string]any{"path": map[string]string{"layer": layer}, "request": req}, experiment.AddExperiment(layer, req))
	return "/console/", err
}

func (c *Console) ramp(r *http.Request) (string, error) {
	size, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("size")))
	if err != nil {
		return "", apierr.Invalid("size must be a whole number of buckets (0–%d)", abtest.NumBuckets)
	}
	layer, exp, variant := r.PathValue("layer"), r.PathValue("exp"), r.PathValue("variant")
	u := experiment.VariantUpdate{Size: &size}
	_, err = c.Admin.Apply(r.Context(), actor(r), "update_variant",
		map[string]any{"path": map[string]string{"layer": layer, "exp": exp, "variant": variant}, "request": u},
		experiment.UpdateVariant(layer, exp, variant, u))
	return "/console/", err
}

func (c *Console) stop(r *http.Request) (string, error) {
	layer, exp := r.PathValue("layer"), r.PathValue("exp")
	_, err := c.Admin.Apply(r.Context(), actor(r), "delete_experiment",
		map[string]any{"path": map[string]string{"layer": layer, "exp": exp}}, experiment.DeleteExperiment(layer, exp))
	return "/console/", err
}

// layerView is a layer with its bucket map: 100 cells of 100 buckets,
// each coloured by the variant owning most of it.
type layerView struct {
	abtest.Layer
	Domain string
	Cells  []cell
	Free   int
}

type cell struct {
	Owner string
	Color string
}

var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

func newLayerView(l abtest.Layer, domain string) layerView {
	v := layerView{Layer: l, Domain: domain, Cells: make([]cell, 100), Free: abtest.NumBuckets}
	owner := make([]string, abtest.NumBuckets)
	colors := map[string]string{}
	n := 0
	for _, e := range l.Experiments {
		for _, va := range e.Variants {
			name := e.Name + "/" + va.Name
			colors[name] = palette[n%len(palette)]
			n++
			for _, r := range va.Buckets {
				for b := r.Start; b < r.End; b++ {
					owner[b] = name
				}
				v.Free -= r.Size()
			}
		}
	}
	for i := range v.Cells {
		count := map[string]int{}
		for b := i * 100; b < (i+1)*100; b++ {
			count[owner[b]]++
		}
		best, most := "", 0
		keys := make([]string, 0, len(count))
		for k := range count {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if count[k] > most {
				best, most = k, count[k]
			}
		}
		v.Cells[i] = cell{Owner: best, Color: colors[best]}
		if best == "" {
			v.Cells[i] = cell{Owner: "free", Color: "#eeeeee"}
		}
	}
	return v
}

func domainMap(c *abtest.Config) []layerView {
	if len(c.Domains) == 0 {
		return nil
	}
	return []layerView{newLayerView(*experiment.DomainSpace(c), "")}
}

var funcs = template.FuncMap{
	"size": func(v abtest.Variant) int {
		n := 0
		for _, r := range v.Buckets {
			n += r.Size()
		}
		return n
	},
	"pct": func(buckets int) string { return fmt.Sprintf("%.1f%%", 100*float64(buckets)/abtest.NumBuckets) },
	"num": func(n experiment.Num) string {
		if f := float64(n); f != f {
			return "–"
		}
		return fmt.Sprintf("%.4f", float64(n))
	},
	"pctnum": func(n experiment.Num) string {
		if f := float64(n); f != f {
			return "–"
		}
		return fmt.Sprintf("%+.1f%%", 100*float64(n))
	},
	"json": func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	},
	"join": strings.Join,
	"inc":  func(i int) int { return i + 1 },
	"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
}

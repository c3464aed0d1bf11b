// Package openapitest checks real HTTP traffic against an OpenAPI
// document (with kin-openapi): every reply must match the document, and
// every request the server accepted (a 2xx) must be one the document
// allows. The end-to-end tests send all their calls through a Validator,
// so the gateway's /openapi.json cannot drift from what it serves.
package openapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Validator is an http.RoundTripper that validates what passes through it.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	next   http.RoundTripper

	mu      sync.Mutex
	covered map[string]bool
	errs    []error
}

// New loads and validates doc (the JSON of /openapi.json) and returns a
// validator that sends through next (http.DefaultTransport when nil).
func New(doc []byte, next http.RoundTripper) (*Validator, error) {
	t, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if err := t.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi document is invalid: %w", err)
	}
	t.Servers = nil // match any host: the tests' servers listen on random ports
	r, err := legacy.NewRouter(t)
	if err != nil {
		return nil, err
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &Validator{doc: t, router: r, next: next, covered: map[string]bool{}}, nil
}

// FromServer fetches base+"/openapi.json" (the document a gateway serves)
// and returns a validator of it that sends through next.
func FromServer(base string, next http.RoundTripper) (*Validator, error) {
	resp, err := http.Get(base + "/openapi.json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	doc, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return New(doc, next)
}

// RoundTrip implements http.RoundTripper.
func (v *Validator) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return resp, err
	}
	v.check(req, reqBody, resp, respBody)
	return resp, nil
}

func (v *Validator) fail(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, fmt.Errorf(format, args...))
}

func (v *Validator) check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	what := req.Method + " " + req.URL.RequestURI()
	probe := req.Clone(context.Background())
	probe.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := v.router.FindRoute(probe)
	if err != nil {
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			v.fail("%s answered %d but is not in the document: %v", what, resp.StatusCode, err)
		}
		return
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts}
	ctx := context.Background()
	if resp.StatusCode/100 == 2 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			v.fail("%s was accepted (%d) but the document refuses it: %v", what, resp.StatusCode, err)
		}
		v.mu.Lock()
		v.covered[req.Method+" "+route.Path] = true
		v.mu.Unlock()
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Options: opts}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		v.fail("%s answered %d with a reply the document does not describe: %v\n%s", what, resp.StatusCode, err, clip(respBody))
	}
}

func clip(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}

// Errors are the mismatches seen so far.
func (v *Validator) Errors() []error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.errs)
}

// Uncovered lists the document's operations ("GET /v1/items/{id}") that no
// request has exercised with a 2xx answer, leaving out skip.
func (v *Validator) Uncovered(skip ...string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for path, item := range v.doc.Paths.Map() {
		for method := range item.Operations() {
			op := method + " " + path
			if !v.covered[op] && !slices.Contains(skip, op) {
				out = append(out, op)
			}
		}
	}
	slices.Sort(out)
	return out
}

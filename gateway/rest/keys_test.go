package rest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/recmesh/recmesh/gateway/rest/openapitest"
)

func TestScopes(t *testing.T) {
	cfg := DefaultConfig()
	cfg.APIKeys = "reader:read, writer:write, both:read+write, legacy"
	srv := newServer(t, cfg)
	call := func(key, method, path, body string) int {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode
	}
	const event = `{"events":[{"user_id":"u","item_id":1,"type":"click"}]}`
	for _, tc := range []struct {
		key, method, path, body string
		forbidden               bool
	}{
		{"reader", "GET", "/v1/recommendations?user_id=u", "", false},
		{"reader", "POST", "/v1/events", event, true},
		{"reader", "PUT", "/v1/items/1", `{"title":"x"}`, true},
		{"reader", "DELETE", "/v1/users/u", "", true},
		{"writer", "GET", "/v1/recommendations?user_id=u", "", true},
		{"writer", "GET", "/v1/users/u", "", true},
		{"writer", "POST", "/v1/events", event, false},
		{"writer", "DELETE", "/v1/items/1", "", false},
		{"both", "GET", "/v1/items/1/similar", "", false},
		{"both", "PATCH", "/v1/items/1", `{"available":false}`, false},
		{"legacy", "POST", "/v1/items", `{"items":[]}`, false},
	} {
		status := call(tc.key, tc.method, tc.path, tc.body)
		if (status == http.StatusForbidden) != tc.forbidden {
			t.Errorf("%s %s with %s: %d, forbidden should be %v", tc.method, tc.path, tc.key, status, tc.forbidden)
		}
	}
	for _, bad := range []string{"k:admin", ":read", "k:read+"} {
		c := DefaultConfig()
		c.APIKeys = bad
		if c.Validate() == nil {
			t.Errorf("-api-keys %q accepted", bad)
		}
	}
}

// The served document is a valid OpenAPI 3 document that kin-openapi can
// validate traffic against (the end-to-end tests do, call by call).
func TestServedDocumentIsValid(t *testing.T) {
	srv := newServer(t, DefaultConfig())
	v, err := openapitest.FromServer(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: v}
	for _, path := range []string{"/v1/recommendations?user_id=u&n=3&category=Drama&exclude=1,2", "/healthz", "/v1/items/abc"} {
		r, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
	}
	for _, err := range v.Errors() {
		t.Error(err)
	}
}

// The validator is not a rubber stamp: a reply off the document fails it.
func TestValidatorCatchesDrift(t *testing.T) {
	good := newServer(t, DefaultConfig())
	resp, err := http.Get(good.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"item_id":"seven","title":1}`))
	}))
	defer bad.Close()
	v, err := openapitest.New(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := (&http.Client{Transport: v}).Get(bad.URL + "/v1/items/7")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if len(v.Errors()) == 0 {
		t.Error("a reply with a string item_id passed validation")
	}
	if u := v.Uncovered(); len(u) == 0 {
		t.Error("nothing reported uncovered")
	}
}

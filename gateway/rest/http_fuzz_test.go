package rest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/recmesh/recmesh/pkg/apierr"
)

// FuzzDecodeEvents checks the events parser never panics and refuses
// anything it cannot parse with invalid_argument.
func FuzzDecodeEvents(f *testing.F) {
	f.Add([]byte(`{"events":[{"user_id":"u","item_id":1,"type":"click","value":1,"ts":5}]}`))
	f.Add([]byte(`{"events":[]} {}`))
	f.Add([]byte(`{"evnts":1}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeEvents(body)
		if err != nil {
			if e, ok := apierr.As(err); !ok || e.Kind != apierr.KindInvalid {
				t.Fatalf("decodeEvents error %v is not invalid_argument", err)
			}
			return
		}
		_ = req.Events
	})
}

// fuzzRoutes are the REST routes FuzzAPI sends to, by index.
var fuzzRoutes = []struct{ method, path string }{
	{"GET", "/v1/recommendations"}, {"POST", "/v1/events"}, {"GET", "/v1/items/1"}, {"GET", "/v1/items/1/similar"},
	{"PUT", "/v1/items/1"}, {"PATCH", "/v1/items/1"}, {"POST", "/v1/items"}, {"GET", "/v1/users/u1"},
	{"PUT", "/v1/users/u1"}, {"DELETE", "/v1/users/u1"},
}

// FuzzAPI sends arbitrary query strings, bodies and headers to every route
// of a gateway whose services are all down. Whatever comes in, the answer
// is 200, a 4xx with a JSON error of a known code that matches the status,
// or 503 unavailable with Retry-After (the services are down): never a
// panic, never another 5xx.
func FuzzAPI(f *testing.F) {
	f.Add(uint8(0), "user_id=1&n=10", []byte(nil), "")
	f.Add(uint8(0), "user_id=1&n=-1&category=a,b&exclude=1,x&cursor=zz&scene=%00", []byte(nil), "")
	f.Add(uint8(1), "", []byte(`{"events":[{"user_id":"u","item_id":1,"type":"click","event_id":"e-1"}]}`), "k1")
	f.Add(uint8(4), "", []byte(`{"title":"t","categories":["Drama"],"expires_at":"2030-01-01T00:00:00Z"}`), "")
	f.Add(uint8(5), "", []byte(`{"expires_at":null}`), "")
	f.Add(uint8(6), "", []byte(`{"items":[{"item_id":2,"title":"x"}]}`), "")
	f.Add(uint8(8), "", []byte(`{"profile":{"categories":"Comedy"}}`), "")
	f.Add(uint8(3), "n=5&user_id=u", []byte(nil), "")
	srv := newServer(f, DefaultConfig())
	known := map[string]bool{}
	for _, k := range apierr.Kinds() {
		known[(&apierr.Error{Kind: k}).Code()] = true
	}
	f.Fuzz(func(t *testing.T, route uint8, query string, body []byte, idemKey string) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		if strings.IndexFunc(query, func(r rune) bool { return r <= 0x20 || r >= 0x7f || r == '#' }) >= 0 {
			return // breaks the request line: net/http refuses it before any handler
		}
		req, err := http.NewRequest(rt.method, srv.URL+rt.path+"?"+query, bytes.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		if idemKey != "" && strings.IndexFunc(idemKey, func(r rune) bool { return r < 0x20 || r > 0x7e }) < 0 {
			req.Header.Set(IdempotencyHeader, idemKey)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s?%s: %v", rt.method, rt.path, query, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK {
			return
		}
		var e apierr.Body
		if err := json.Unmarshal(b, &e); err != nil || !known[e.Error.Code] {
			t.Fatalf("%s %s?%s: %d with body %q: not a JSON error of a known code", rt.method, rt.path, query, resp.StatusCode, b)
		}
		switch {
		case resp.StatusCode >= 400 && resp.StatusCode < 500:
		case resp.StatusCode == http.StatusServiceUnavailable && e.Error.Code == "unavailable" && resp.Header.Get("Retry-After") != "":
		default:
			t.Fatalf("%s %s?%s: %d %s", rt.method, rt.path, query, resp.StatusCode, b)
		}
	})
}

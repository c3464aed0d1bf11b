package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The image's healthcheck: 2xx passes, anything else or no answer fails.
func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.Error(w, "not ready: store down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	}))
	defer srv.Close()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"probe", srv.URL + "/readyz"}, &out, &out); err != nil || out.String() != "ready\n" {
		t.Errorf("probe of a ready URL: %v, %q", err, out.String())
	}
	err := run(context.Background(), []string{"probe", srv.URL + "/other"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "store down") {
		t.Errorf("probe of a 503: %v", err)
	}
	if err := run(context.Background(), []string{"probe", "-timeout", "200ms", "http://127.0.0.1:1/"}, &out, &out); err == nil {
		t.Error("probe of a closed port passed")
	}
	if err := run(context.Background(), []string{"probe"}, &out, &out); err == nil {
		t.Error("probe without a URL passed")
	}
}

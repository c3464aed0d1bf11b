package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRetriesHonourRetryAfterAndKeepTheIdempotencyKey(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		times = append(times, time.Now())
		switch len(keys) {
		case 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"retry later"}}`))
		case 2:
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":{"code":"rate_limited","message":"slow down"}}`))
		default:
			_, _ = w.Write([]byte(`{"accepted":2}`))
		}
	}))
	defer srv.Close()
	c := New(srv.URL, Options{Backoff: time.Millisecond})
	n, err := c.SendEvents(context.Background(), []Event{{UserID: "u", ItemID: 1, Type: "click"}, {UserID: "u", ItemID: 2, Type: "click"}})
	if err != nil || n != 2 {
		t.Fatalf("SendEvents = %d, %v", n, err)
	}
	if len(keys) != 3 || keys[0] == "" || keys[0] != keys[1] || keys[1] != keys[2] {
		t.Errorf("idempotency keys across tries = %q, want one key three times", keys)
	}
	if gap := times[1].Sub(times[0]); gap < time.Second {
		t.Errorf("retried %v after a Retry-After of 1s", gap)
	}
}

func TestErrorsAreTypedAndNotRetriedWhenFinal(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":{"code":"permission_denied","message":"read key"}}`))
	}))
	defer srv.Close()
	_, err := New(srv.URL, Options{APIKey: "k"}).DeleteItem(context.Background(), 5)
	var e *Error
	if !errors.As(err, &e) || e.Status != 403 || !IsCode(err, "permission_denied") || calls != 1 {
		t.Errorf("err = %v (calls %d), want one permission_denied 403", err, calls)
	}
}

func TestGivesUpAfterMaxRetriesAndOnCancel(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	_, err := New(srv.URL, Options{MaxRetries: 2, Backoff: time.Millisecond}).Item(context.Background(), 1)
	if !IsCode(err, "http_503") || calls != 3 {
		t.Errorf("err = %v after %d calls, want http_503 after 3", err, calls)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = New(srv.URL, Options{MaxRetries: 100, Backoff: time.Second}).Item(ctx, 1)
	if err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("a cancelled context: %v after %v", err, time.Since(start))
	}
}

func TestPagesFollowTheCursor(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("cursor") {
		case "":
			_, _ = w.Write([]byte(`{"items":[{"item_id":1}],"next_cursor":"c2"}`))
		case "c2":
			_, _ = w.Write([]byte(`{"items":[{"item_id":2}]}`))
		default:
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	var got []int64
	for page, err := range New(srv.URL, Options{}).Pages(context.Background(), RecommendRequest{UserID: "u", N: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.Items[0].ItemID)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("pages = %v, want [1 2]", got)
	}
}

func TestPatchBody(t *testing.T) {
	title := "x"
	b := ItemPatch{Title: &title, ClearExpiry: true}.body()
	if len(b) != 2 || b["expires_at"] != nil || *(b["title"].(*string)) != "x" {
		t.Errorf("patch body = %v", b)
	}
}

// The client is for feed teams' services: it must not pull in the server.
func TestNoDependencies(t *testing.T) {
	b, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "require") {
		t.Errorf("client/go.mod requires modules:\n%s", b)
	}
}

// Package client is the Go client of the recmesh gateway's REST API:
// typed calls for every route, retries with backoff on 503 and 429 that
// honour Retry-After, idempotency keys on event batches so a retry never
// stores a batch twice, and a context on every call. It depends on the
// standard library only.
package client

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls one recmesh gateway. It is safe for concurrent use.
type Client struct {
	base string
	opts Options
}

// Options tune a Client; the zero value of each field is its default.
type Options struct {
	// APIKey is sent in X-API-Key; empty sends none.
	APIKey string
	// HTTPClient makes the calls (http.DefaultClient).
	HTTPClient *http.Client
	// MaxRetries is how many times a call is retried after a 503, a 429 or
	// a transport error (3); a negative value retries never.
	MaxRetries int
	// Backoff is the first wait between tries (100ms); it doubles, with
	// jitter, up to MaxBackoff (2s). A Retry-After header wins when longer.
	Backoff, MaxBackoff time.Duration
}

// New returns a client of the gateway at baseURL (http://host:port).
func New(baseURL string, o Options) *Client {
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 2 * time.Second
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), opts: o}
}

// Error is an error answer of the API: its HTTP status and the stable
// code and message of its body.
type Error struct {
	Status  int
	Code    string
	Message string
	// RetryAfter is the server's Retry-After, if it sent one.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("recmesh: %d %s: %s", e.Status, e.Code, e.Message)
}

// IsCode reports whether err is an API error with the given code
// (invalid_argument, not_found, permission_denied, ...).
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// retryable says whether a failed try is worth another: a 503, a 429, or
// no answer at all (status 0) unless the context ended.
func retryable(status int, err error) bool {
	if status == 0 {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	return status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests
}

// do sends method path with body (nil: none) and decodes a 2xx answer into
// out, retrying as Options say. header adds request headers.
func (c *Client) do(ctx context.Context, method, path string, body any, header http.Header, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("recmesh: encode %s %s: %w", method, path, err)
		}
	}
	wait := c.opts.Backoff
	for try := 0; ; try++ {
		status, retryAfter, err := c.once(ctx, method, path, payload, header, out)
		if err == nil {
			return nil
		}
		if try >= c.opts.MaxRetries || !retryable(status, err) {
			return err
		}
		pause := wait/2 + rand.N(wait/2+1) // jitter in [wait/2, wait]
		pause = max(pause, retryAfter)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
		wait = min(2*wait, c.opts.MaxBackoff)
	}
}

func (c *Client) once(ctx context.Context, method, path string, payload []byte, header http.Header, out any) (int, time.Duration, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, 0, fmt.Errorf("recmesh: %w", err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.opts.APIKey != "" {
		req.Header.Set("X-API-Key", c.opts.APIKey)
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("recmesh: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return 0, 0, fmt.Errorf("recmesh: read %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 == 2 {
		if out == nil {
			return resp.StatusCode, 0, nil
		}
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, 0, fmt.Errorf("recmesh: decode %s %s: %w", method, path, err)
		}
		return resp.StatusCode, 0, nil
	}
	e := &Error{Status: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &body) == nil && body.Error.Code != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
	} else {
		e.Code, e.Message = "http_"+strconv.Itoa(resp.StatusCode), strings.TrimSpace(string(b))
	}
	return resp.StatusCode, e.RetryAfter, e
}

// parseRetryAfter reads seconds or an HTTP date; 0 when absent or bad.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// NewIdempotencyKey returns a random key for an event batch.
func NewIdempotencyKey() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func itemPath(id int64) string { return "/v1/items/" + strconv.FormatInt(id, 10) }

func userPath(id string) string { return "/v1/users/" + url.PathEscape(id) }

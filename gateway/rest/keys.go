package rest

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/recmesh/recmesh/pkg/apierr"
)

// scopes are what an API key may do: read (recommendations, items,
// similar items, users) and write (events, the catalogue, users).
type scopes uint8

const (
	scopeRead scopes = 1 << iota
	scopeWrite
	scopeAll = scopeRead | scopeWrite
)

func (s scopes) String() string {
	switch s {
	case scopeRead:
		return "read"
	case scopeWrite:
		return "write"
	}
	return "read+write"
}

// parseKeys reads -api-keys: comma-separated key[:scope[+scope]].
func parseKeys(s string) (map[string]scopes, error) {
	keys := map[string]scopes{}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		key, list, scoped := strings.Cut(entry, ":")
		sc := scopeAll
		if scoped {
			sc = 0
			for _, name := range strings.Split(list, "+") {
				switch name {
				case "read":
					sc |= scopeRead
				case "write":
					sc |= scopeWrite
				default:
					return nil, fmt.Errorf("api key %q…: unknown scope %q; use read, write or read+write", key[:min(4, len(key))], name)
				}
			}
		}
		if key == "" {
			return nil, fmt.Errorf("an api key entry %q has no key", entry)
		}
		keys[key] |= sc
	}
	return keys, nil
}

// admit checks the API key and its scope (when keys are configured) and
// the key's rate limit; without keys, the rate limit is the client
// address's.
func (a *API) admit(r *http.Request, need scopes) error {
	key := "addr:" + clientAddr(r, a.cfg.ClientIPHeader)
	if len(a.keys) > 0 {
		key = r.Header.Get("X-API-Key")
		if key == "" {
			key = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		have, ok := a.keys[key]
		if !ok {
			return apierr.New(apierr.KindUnauthenticated, "a valid API key is required in X-API-Key")
		}
		if have&need != need {
			return apierr.New(apierr.KindForbidden, "this API key has the %s scope; %s %s needs %s", have, r.Method, r.URL.Path, need)
		}
	}
	if !a.limiter.allow(key) {
		return apierr.New(apierr.KindRateLimited, "rate limit exceeded; slow down")
	}
	return nil
}

// clientAddr is the caller's address: from header when a trusted proxy sets
// it (the last entry of a comma list, the one the proxy appended), else the
// connection's host.
func clientAddr(r *http.Request, header string) string {
	if header != "" {
		if v := r.Header.Values(header); len(v) > 0 {
			last := v[len(v)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := strings.TrimSpace(last); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

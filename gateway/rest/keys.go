package rest

import (
	"fmt"
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
// the key's rate limit.
func (a *API) admit(r *http.Request, need scopes) error {
	key := "anonymous"
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

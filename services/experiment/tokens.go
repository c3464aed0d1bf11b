package experiment

import (
	"context"
	"crypto/subtle"
	"fmt"
	"regexp"
	"strings"
)

// AdminToken is one admin credential: Name is who holds it, and what the
// audit log records as the actor of every change made with it.
type AdminToken struct {
	Name, Token string
}

var tokenNameRE = regexp.MustCompile(`^[a-z0-9._-]{1,64}$`)

// ParseAdminTokens reads -admin-token: one bare token (its holder is
// "admin"), or comma-separated name:token pairs, one per person or system,
// so the audit log names who changed what. Names are 1–64 of a-z 0-9 . _ -;
// tokens must be unique, and at least 16 bytes unless bare (dev setups).
func ParseAdminTokens(s string) ([]AdminToken, error) {
	if s == "" {
		return nil, nil
	}
	if !strings.ContainsAny(s, ":,") {
		return []AdminToken{{Name: "admin", Token: s}}, nil
	}
	var out []AdminToken
	seen := map[string]bool{}
	for _, entry := range strings.Split(s, ",") {
		name, tok, ok := strings.Cut(strings.TrimSpace(entry), ":")
		switch {
		case !ok || !tokenNameRE.MatchString(name):
			return nil, fmt.Errorf("admin token %d: want name:token with a name of 1–64 of a-z 0-9 . _ -", len(out)+1)
		case len(tok) < 16:
			return nil, fmt.Errorf("admin token of %s: at least 16 bytes", name)
		case seen[tok] || seen["name:"+name]:
			return nil, fmt.Errorf("admin token of %s: names and tokens must be unique", name)
		}
		seen[tok], seen["name:"+name] = true, true
		out = append(out, AdminToken{Name: name, Token: tok})
	}
	return out, nil
}

// identify returns the name of the holder of token, comparing in constant
// time against every configured token.
func identify(tokens []AdminToken, token string) (string, bool) {
	name, found := "", false
	for _, t := range tokens {
		if token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(t.Token)) == 1 {
			name, found = t.Name, true
		}
	}
	return name, found
}

type actorKey struct{}

// withActor records who is making a request (an admin token's holder).
func withActor(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, actorKey{}, name)
}

// actorOf is the holder of the token a request was admitted with.
func actorOf(ctx context.Context) string {
	name, _ := ctx.Value(actorKey{}).(string)
	return name
}

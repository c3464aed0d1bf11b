package balancer

import "context"

type routeKey struct{}

type route struct {
	key      string
	versions map[string]string
}

// WithRoute returns ctx carrying the request's routing key (the user id, for
// cache affinity) and the service → version tag routes of its variants.
func WithRoute(ctx context.Context, key string, versions map[string]string) context.Context {
	return context.WithValue(ctx, routeKey{}, route{key, versions})
}

// RouteFrom returns the routing key and the version wanted for service.
func RouteFrom(ctx context.Context, service string) (key, version string) {
	r, _ := ctx.Value(routeKey{}).(route)
	return r.key, r.versions[service]
}

package balancer

import "context"

type routeKey struct{}

type route struct {
	key      string
	versions map[string]string
	reserved map[string][]string
}

// WithRoute returns ctx carrying the request's routing key (the user id, for
// cache affinity) and the service → version tag routes of its variants.
func WithRoute(ctx context.Context, key string, versions map[string]string) context.Context {
	return WithRoutes(ctx, key, versions, nil)
}

// WithRoutes is WithRoute, plus the versions of each service that some
// variant routes to (reserved): a request with no route of its own for a
// service is served by the instances of the other versions, so an arm's
// version serves only that arm, as long as another version has an instance.
func WithRoutes(ctx context.Context, key string, versions map[string]string, reserved map[string][]string) context.Context {
	return context.WithValue(ctx, routeKey{}, route{key, versions, reserved})
}

// RouteFrom returns the routing key and the version wanted for service.
func RouteFrom(ctx context.Context, service string) (key, version string) {
	r, _ := ctx.Value(routeKey{}).(route)
	return r.key, r.versions[service]
}

// reservedFrom returns the versions of service reserved for routed arms.
func reservedFrom(ctx context.Context, service string) []string {
	r, _ := ctx.Value(routeKey{}).(route)
	return r.reserved[service]
}

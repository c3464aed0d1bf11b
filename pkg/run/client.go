package run

import (
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/recmesh/recmesh/pkg/telemetry"
)

// ClientDialOptions are the options every recmesh gRPC client uses: tracing
// with W3C propagation. Traffic stays on a trusted network, so it is plaintext.
func ClientDialOptions(tp trace.TracerProvider) []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(telemetry.Propagator()))),
	}
}

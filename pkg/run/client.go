package run

import (
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/recmesh/recmesh/pkg/codec"
	"github.com/recmesh/recmesh/pkg/telemetry"
)

// ClientDialOptions are the options every recmesh gRPC client uses: tracing
// with W3C propagation (tp nil: none) and the mesh's codec. Traffic stays on
// a trusted network, so it is plaintext.
func ClientDialOptions(tp trace.TracerProvider) []grpc.DialOption {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(codec.Codec{})),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(telemetry.Propagator()))),
	}
}

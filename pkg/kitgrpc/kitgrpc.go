// Package kitgrpc is the typed glue between go-kit endpoints and gRPC. It
// keeps the interface{} assertions go-kit needs in one generic place, so a
// service's transport only writes pb ↔ domain codecs.
package kitgrpc

import (
	"context"

	"github.com/go-kit/kit/endpoint"
	grpctransport "github.com/go-kit/kit/transport/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/kitendpoint"
)

// Handler serves one gRPC method through a go-kit endpoint.
type Handler[PReq, PResp any] struct{ srv *grpctransport.Server }

// NewHandler builds the handler for one method of an endpoint made by
// kitendpoint.Make. dec turns the pb request into the endpoint's request;
// enc turns the response value into pb. A business error is sent as its
// gRPC status (apierr.Error implements GRPCStatus).
func NewHandler[PReq, Req, Resp, PResp any](ep endpoint.Endpoint, dec func(*PReq) (Req, error), enc func(Resp) *PResp) Handler[PReq, PResp] {
	return Handler[PReq, PResp]{srv: grpctransport.NewServer(ep,
		func(_ context.Context, req any) (any, error) { return dec(req.(*PReq)) },
		func(_ context.Context, resp any) (any, error) {
			r := resp.(kitendpoint.Response[Resp])
			if r.Err != nil {
				return nil, r.Err
			}
			return enc(r.Value), nil
		},
	)}
}

// Serve handles one call.
func (h Handler[PReq, PResp]) Serve(ctx context.Context, req *PReq) (*PResp, error) {
	_, resp, err := h.srv.ServeGRPC(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.(*PResp), nil
}

// ClientEndpoint calls method of grpcService on the instance the picker
// chooses for the request's routing key and version (see
// balancer.WithRoute). It takes and returns pb messages. Breakers are the
// caller's: the gateway runs every hop under its own.
func ClientEndpoint[PReq, PResp any](p *balancer.Picker, service, grpcService, method string) endpoint.Endpoint {
	fullMethod := "/" + grpcService + "/" + method
	// invoke calls the instance chosen for the request, skipping avoid, and
	// says which instance it was.
	invoke := func(ctx context.Context, req *PReq, avoid string) (*PResp, string, error) {
		key, version := balancer.RouteFrom(ctx, service)
		conn, done, err := p.ConnAvoiding(ctx, key, version, avoid)
		if err != nil {
			return nil, "", err
		}
		defer done()
		out := new(PResp)
		// The status error is returned as is: its message is what a business
		// error shows the end user, and apierr.FromGRPC reads its code.
		if err := conn.Invoke(ctx, fullMethod, req, out); err != nil {
			return nil, conn.Target(), err
		}
		return out, conn.Target(), nil
	}
	var ep endpoint.Endpoint = func(ctx context.Context, req any) (any, error) {
		out, addr, err := invoke(ctx, req.(*PReq), "")
		// An instance that refuses the call (it died, and the registry has
		// not noticed yet) is skipped once for the next one on the ring;
		// with no other instance the first error stands.
		if status.Code(err) == codes.Unavailable && addr != "" && ctx.Err() == nil {
			if retried, raddr, rerr := invoke(ctx, req.(*PReq), addr); raddr != "" {
				out, err = retried, rerr
			}
		}
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	return ep
}

// Method is a typed client of one unary method: it encodes the request,
// calls the endpoint and decodes the reply. dec sees the request too, for
// replies that carry only ids of what the request sent.
type Method[Req, Resp, PReq, PResp any] struct {
	ep  endpoint.Endpoint
	enc func(Req) *PReq
	dec func(*PResp, Req) (Resp, error)
}

// NewMethod returns the client of method of grpcService (see ClientEndpoint).
func NewMethod[Req, Resp, PReq, PResp any](p *balancer.Picker, service, grpcService, method string,
	enc func(Req) *PReq, dec func(*PResp, Req) (Resp, error)) Method[Req, Resp, PReq, PResp] {
	return Method[Req, Resp, PReq, PResp]{ep: ClientEndpoint[PReq, PResp](p, service, grpcService, method), enc: enc, dec: dec}
}

// Call sends req and decodes the reply.
func (m Method[Req, Resp, PReq, PResp]) Call(ctx context.Context, req Req) (Resp, error) {
	resp, err := m.ep(ctx, m.enc(req))
	if err != nil {
		var zero Resp
		return zero, err
	}
	return m.dec(resp.(*PResp), req)
}

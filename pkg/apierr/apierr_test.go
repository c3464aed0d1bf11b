package apierr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestMappingRoundTrip sends every kind through the one table both ways:
// Error → gRPC status → Error keeps the kind (even where two kinds share a
// gRPC code), and each kind has its stable code, HTTP status and class.
func TestMappingRoundTrip(t *testing.T) {
	tests := []struct {
		kind       Kind
		wantCode   string
		wantStatus int
		wantGRPC   codes.Code
		business   bool
	}{
		{KindInvalid, "invalid_argument", http.StatusBadRequest, codes.InvalidArgument, true},
		{KindNotFound, "not_found", http.StatusNotFound, codes.NotFound, true},
		{KindTooLarge, "too_large", http.StatusRequestEntityTooLarge, codes.ResourceExhausted, true},
		{KindUnauthenticated, "unauthenticated", http.StatusUnauthorized, codes.Unauthenticated, true},
		{KindRateLimited, "rate_limited", http.StatusTooManyRequests, codes.ResourceExhausted, true},
		{KindUnavailable, "unavailable", http.StatusServiceUnavailable, codes.Unavailable, false},
		{KindForbidden, "permission_denied", http.StatusForbidden, codes.PermissionDenied, true},
		{KindConflict, "conflict", http.StatusConflict, codes.FailedPrecondition, true},
	}
	if len(tests) != len(Kinds()) {
		t.Fatalf("the table test covers %d kinds, there are %d", len(tests), len(Kinds()))
	}
	for _, tt := range tests {
		t.Run(tt.wantCode, func(t *testing.T) {
			err := New(tt.kind, "something about %s", "x")
			wrapped := fmt.Errorf("layer: %w", err)
			e, ok := As(wrapped)
			if !ok {
				t.Fatalf("As(%v) found no error", wrapped)
			}
			if e.Code() != tt.wantCode || e.HTTPStatus() != tt.wantStatus || tt.kind.Business() != tt.business {
				t.Errorf("code %q status %d business %v, want %q %d %v", e.Code(), e.HTTPStatus(), tt.kind.Business(), tt.wantCode, tt.wantStatus, tt.business)
			}
			st, _ := status.FromError(err)
			if st.Code() != tt.wantGRPC {
				t.Errorf("grpc code %v, want %v", st.Code(), tt.wantGRPC)
			}
			// What a gRPC client receives: a status rebuilt from the wire proto.
			received := status.FromProto(st.Proto()).Err()
			back, ok := FromGRPC(received)
			if !ok || back.Kind != tt.kind || back.Message != "something about x" {
				t.Fatalf("FromGRPC round trip = %+v, %v; want kind %v", back, ok, tt.kind)
			}
			if got := Business(received) != nil; got != tt.business {
				t.Errorf("Business(received) = %v, want %v", got, tt.business)
			}
			if got := Infra(received) == nil; got != tt.business {
				t.Errorf("Infra(received) == nil is %v, want %v", got, tt.business)
			}
		})
	}
}

// A peer that sends a bare status code (no recmesh detail) is read by code.
func TestFromGRPCWithoutDetail(t *testing.T) {
	for code, want := range map[codes.Code]Kind{
		codes.InvalidArgument: KindInvalid, codes.NotFound: KindNotFound, codes.ResourceExhausted: KindTooLarge,
		codes.Unavailable: KindUnavailable, codes.PermissionDenied: KindForbidden, codes.FailedPrecondition: KindConflict,
	} {
		e, ok := FromGRPC(status.Error(code, "m"))
		if !ok || e.Kind != want {
			t.Errorf("FromGRPC(%v) = %+v, %v; want %v", code, e, ok, want)
		}
	}
}

// The picker's "no instance" is an infrastructure failure, and a business
// error that wraps a passed deadline is too: both must count against a breaker.
func TestUnavailableAndDeadlinesAreInfrastructure(t *testing.T) {
	for _, err := range []error{
		New(KindUnavailable, "no instance of recall"),
		fmt.Errorf("%w: %w", Invalid("x"), context.DeadlineExceeded),
	} {
		if Business(err) != nil || Infra(err) == nil {
			t.Errorf("%v classified as business", err)
		}
	}
}

func TestInfrastructureErrorsAreNotBusiness(t *testing.T) {
	for _, err := range []error{
		status.Error(codes.Unavailable, "down"),
		status.Error(codes.DeadlineExceeded, "slow"),
		status.Error(codes.Internal, "boom"),
		errors.New("plain"),
	} {
		if Business(err) != nil {
			t.Errorf("Business(%v) classified an infrastructure error as business", err)
		}
	}
}

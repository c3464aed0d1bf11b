package apierr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestMappingRoundTrip(t *testing.T) {
	tests := []struct {
		err        error
		wantCode   string
		wantStatus int
		wantGRPC   codes.Code
		business   bool
	}{
		{Invalid("bad %s", "x"), "invalid_argument", http.StatusBadRequest, codes.InvalidArgument, true},
		{NotFound("item 1"), "not_found", http.StatusNotFound, codes.NotFound, true},
		{TooLarge("body"), "too_large", http.StatusRequestEntityTooLarge, codes.ResourceExhausted, true},
	}
	for _, tt := range tests {
		wrapped := fmt.Errorf("layer: %w", tt.err)
		e, ok := As(wrapped)
		if !ok {
			t.Fatalf("As(%v) found no business error", wrapped)
		}
		if e.Code() != tt.wantCode || e.HTTPStatus() != tt.wantStatus {
			t.Errorf("%v: code %q status %d, want %q %d", tt.err, e.Code(), e.HTTPStatus(), tt.wantCode, tt.wantStatus)
		}
		st, _ := status.FromError(tt.err)
		if st.Code() != tt.wantGRPC {
			t.Errorf("%v: grpc code %v, want %v", tt.err, st.Code(), tt.wantGRPC)
		}
		back, ok := FromGRPC(st.Err())
		if ok != tt.business {
			t.Fatalf("FromGRPC(%v) business=%v", st.Err(), ok)
		}
		if b, _ := As(back); b.Code() != tt.wantCode {
			t.Errorf("round trip code %q, want %q", b.Code(), tt.wantCode)
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
		if _, ok := FromGRPC(err); ok {
			t.Errorf("FromGRPC(%v) classified an infrastructure error as business", err)
		}
	}
}

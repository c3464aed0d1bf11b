package kitendpoint

import (
	"context"
	"errors"
	"testing"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/apierr"
)

func TestMakeSeparatesBusinessFromInfrastructure(t *testing.T) {
	infra := errors.New("database down")
	tests := []struct {
		name      string
		err       error
		wantErr   error // returned by the endpoint
		wantFails bool  // carried by the response
	}{
		{"ok", nil, nil, false},
		{"business", apierr.Invalid("bad"), nil, true},
		{"infrastructure", infra, infra, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := Make(func(_ context.Context, n int) (int, error) { return n * 2, tt.err })
			resp, err := ep(context.Background(), 21)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			r := resp.(Response[int])
			if (r.Failed() != nil) != tt.wantFails {
				t.Errorf("Failed() = %v", r.Failed())
			}
			if tt.err == nil && r.Value != 42 {
				t.Errorf("value = %d, want 42", r.Value)
			}
			var _ endpoint.Failer = r
		})
	}
}

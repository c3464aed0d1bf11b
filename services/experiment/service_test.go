package experiment

import (
	"context"
	"testing"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/kitendpoint"
)

func TestSetValidatesAndGetConfigServesTheLatest(t *testing.T) {
	c := New(&abtest.Config{Version: 1})
	bad := &abtest.Config{Version: 2, Layers: []abtest.Layer{{Name: "l", Salt: ""}}}
	if err := c.Set(bad); err == nil {
		t.Fatal("a layer without a salt was accepted")
	} else if e, ok := apierr.As(err); !ok || e.Kind != apierr.KindInvalid {
		t.Errorf("Set error %v is not invalid_argument", err)
	}
	if err := c.Set(&abtest.Config{Version: 3}); err != nil {
		t.Fatal(err)
	}
	resp, err := MakeGetConfigEndpoint(c)(context.Background(), struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if v := resp.(kitendpoint.Response[*abtest.Config]).Value.Version; v != 3 {
		t.Errorf("served version %d, want 3 (the refused 2 must not be served)", v)
	}
	if _, err := (&Configs{}).GetConfig(context.Background()); err != ErrNoConfig {
		t.Errorf("empty service: %v, want ErrNoConfig", err)
	}
}

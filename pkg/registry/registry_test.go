package registry

import (
	"context"
	"testing"
)

func TestStaticRegisterDeregister(t *testing.T) {
	ctx := context.Background()
	s := NewStatic()
	a := Instance{ID: "recall-1", Service: "recall", Addr: "127.0.0.1:1", Tags: []string{"version=v1"}}
	b := Instance{ID: "recall-2", Service: "recall", Addr: "127.0.0.1:2", Tags: []string{"version=v2"}}
	for _, in := range []Instance{a, b} {
		if err := s.Register(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	list, idx1, _ := s.Instances(ctx, "recall")
	if len(list) != 2 || list[1].Version() != "v2" {
		t.Fatalf("instances = %+v", list)
	}
	if err := s.Deregister(ctx, a); err != nil {
		t.Fatal(err)
	}
	after, idx2, _ := s.Instances(ctx, "recall")
	if len(after) != 1 || after[0].ID != "recall-2" || idx2 == idx1 {
		t.Fatalf("after deregister: %+v index %d→%d", after, idx1, idx2)
	}
	if len(list) != 2 {
		t.Errorf("a returned list was mutated: %+v", list)
	}
	if err := s.Register(ctx, Instance{Service: "x"}); err == nil {
		t.Error("Register accepted an instance with no id or address")
	}
}

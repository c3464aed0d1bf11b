package store_test

import (
	"context"
	"testing"

	"github.com/recmesh/recmesh/pkg/pgtest"
	"github.com/recmesh/recmesh/services/experiment/store"
	"github.com/recmesh/recmesh/services/experiment/store/storetest"
)

func TestPostgresContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		pool := pgtest.Pool(t)
		applied, err := store.Migrate(context.Background(), pool)
		if err != nil || len(applied) == 0 {
			t.Fatalf("migrate: %v %v", applied, err)
		}
		return store.NewPostgres(pool)
	})
}

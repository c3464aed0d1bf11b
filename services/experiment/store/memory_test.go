package store_test

import (
	"testing"

	"github.com/recmesh/recmesh/services/experiment/store"
	"github.com/recmesh/recmesh/services/experiment/store/storetest"
)

func TestMemoryContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return store.NewMemory() })
}

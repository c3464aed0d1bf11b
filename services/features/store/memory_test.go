package store_test

import (
	"testing"

	"github.com/recmesh/recmesh/services/features/store"
	"github.com/recmesh/recmesh/services/features/store/storetest"
)

func TestMemoryContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return store.NewMemory() })
}

func TestMemoryCatalogue(t *testing.T) {
	storetest.RunCatalogue(t, func(*testing.T) storetest.FullStore { return store.NewMemory() })
}

package store_test

import (
	"testing"

	"github.com/recmesh/recmesh/services/features/store"
	"github.com/recmesh/recmesh/services/features/store/storetest"
)

func TestMemoryExposures(t *testing.T) {
	storetest.RunExposures(t, func(*testing.T) storetest.ExposureStore { return store.NewMemory() })
}

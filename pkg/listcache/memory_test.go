package listcache_test

import (
	"testing"

	"github.com/recmesh/recmesh/pkg/listcache"
	"github.com/recmesh/recmesh/pkg/listcache/listcachetest"
)

func TestMemoryStore(t *testing.T) { listcachetest.Contract(t, listcache.NewMemory()) }

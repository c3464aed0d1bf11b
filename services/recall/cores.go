package recall

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// onEveryCore calls work(i) for every i in [0, n) on every core (at most n
// workers), and returns when all are done. Each worker calls newWorker once
// for its own work function, where its scratch space lives; the order in
// which the i are taken is not fixed, so work(i) must not depend on it.
func onEveryCore(n int, newWorker func() func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work := newWorker()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				work(i)
			}
		}()
	}
	wg.Wait()
}

package gbdt

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestParallelBlocksConcurrent: calls from many goroutines at once, more
// blocks than helpers, each covering every index once with the blocks
// numbered as documented.
func TestParallelBlocksConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				n, threads := 1+(i*7+g)%50, 1+(i+g)%5
				seen := make([]atomic.Int32, n)
				var blocks atomic.Int32
				parallelBlocks(n, threads, func(lo, hi, block int) {
					if want := min(threads, n); lo != n*block/want || hi != n*(block+1)/want {
						t.Errorf("block %d of %d over %d: [%d, %d)", block, want, n, lo, hi)
					}
					blocks.Add(1)
					for k := lo; k < hi; k++ {
						seen[k].Add(1)
					}
				})
				for k := range seen {
					if seen[k].Load() != 1 {
						t.Errorf("n %d threads %d: index %d covered %d times", n, threads, k, seen[k].Load())
						return
					}
				}
				if blocks.Load() != int32(min(threads, n)) {
					t.Errorf("n %d threads %d: %d blocks", n, threads, blocks.Load())
				}
			}
		})
	}
	wg.Wait()
}

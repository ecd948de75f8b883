// Package fanout runs independent requests a few at a time — the files of
// a directory upload, the chunks of a log-batch: one at a time leaves the
// connection idle while each request waits for its answer, and a few at
// once fill those waits without piling up requests at the server.
package fanout

import (
	"sync"
	"sync/atomic"
)

// Each calls f(0) … f(n-1), starting them in index order with at most par
// running at once. After a call fails no further call starts, and the ones
// under way finish (they are not cancelled, so that their own errors stay
// theirs). The error returned is that of the lowest failed index, so it
// does not depend on which call happened to finish first.
func Each(n, par int, f func(i int) error) error {
	if n <= 1 || par <= 1 {
		for i := range n {
			if err := f(i); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, n)
	var failed atomic.Bool
	var wg sync.WaitGroup
	slots := make(chan struct{}, par)
	for i := range n {
		slots <- struct{}{}
		if failed.Load() {
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := f(i); err != nil {
				errs[i] = err
				failed.Store(true)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

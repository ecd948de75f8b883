package fanout

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEach(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		n, par   int
		fail     map[int]time.Duration // index → delay before failing
		wantErr  string
		maxCalls int // calls that may start
	}{
		{"all succeed", 20, 4, nil, "", 20},
		{"sequential", 5, 1, map[int]time.Duration{2: 0, 3: 0}, "call 2", 3},
		{"none", 0, 4, nil, "", 0},
		{"one", 1, 4, map[int]time.Duration{0: 0}, "call 0", 1},
		// Call 3 fails late, call 5 early: the lower index is reported.
		{"lowest index wins", 12, 4, map[int]time.Duration{3: 60 * time.Millisecond, 5: 0}, "call 3", 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var running, most, calls atomic.Int32
			var mu sync.Mutex
			started := map[int]bool{}
			err := Each(tt.n, tt.par, func(i int) error {
				calls.Add(1)
				mu.Lock()
				started[i] = true
				mu.Unlock()
				r := running.Add(1)
				defer running.Add(-1)
				for m := most.Load(); r > m && !most.CompareAndSwap(m, r); m = most.Load() {
				}
				if d, ok := tt.fail[i]; ok {
					time.Sleep(d)
					return fmt.Errorf("call %d", i)
				}
				time.Sleep(10 * time.Millisecond)
				return nil
			})
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if m := most.Load(); int(m) > max(tt.par, 1) {
				t.Errorf("%d calls at once, limit %d", m, tt.par)
			}
			if tt.n >= 4 && tt.par >= 4 && most.Load() < 2 {
				t.Errorf("never more than one call at once")
			}
			if c := int(calls.Load()); c > tt.maxCalls {
				t.Errorf("%d calls started, at most %d expected", c, tt.maxCalls)
			}
			// Calls start in index order: no gaps before the last started.
			for i := range int(calls.Load()) {
				if !started[i] {
					t.Errorf("call %d skipped while later ones ran", i)
				}
			}
		})
	}
}

// TestEachStopsAfterFailure: once a failure is known, no call starts.
func TestEachStopsAfterFailure(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	boom := errors.New("boom")
	err := Each(100, 2, func(i int) error {
		calls.Add(1)
		if i == 0 {
			return boom
		}
		time.Sleep(20 * time.Millisecond)
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v", err)
	}
	// Call 0 fails at once; call 1 may already run and one more slot may
	// have been taken before the failure was seen.
	if c := calls.Load(); c > 3 {
		t.Errorf("%d calls started after an immediate failure", c)
	}
}

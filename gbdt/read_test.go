package gbdt

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// allocated runs f and returns the bytes it allocated on the heap (all of
// them, freed or not: an upper bound of the heap's growth).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReadTextBombs: files made to exhaust memory are refused with a
// bounded allocation, each with an error naming the line and the limit.
// The newline bomb ("tree" and 8 MiB of newlines) made the reader that
// split the whole file into lines allocate about 950 MB.
func TestReadTextBombs(t *testing.T) {
	const budget = 50 << 20
	good := writeString(t, handModel())
	header := good[:strings.Index(good, "Tree=0")]
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"newlines", append([]byte("tree\n"), bytes.Repeat([]byte("\n"), 8<<20)...), "header has no num_class"},
		{"newlines after the header", []byte(header + strings.Repeat("\n", 8<<20)), `missing "end of trees"`},
		{"long line", []byte("tree\nversion=" + strings.Repeat("v", 40<<20) + "\n"), "longer than"},
		{"many values", []byte(header + "Tree=0\nnum_leaves=4\nnum_cat=0\nleaf_value=" + strings.Repeat("0 ", 4<<20) + "0\n\n"), "values, want 4"},
		{"many names", []byte(strings.Replace(good, "feature_names=income region debt_ratio", "feature_names="+strings.Repeat("a ", 4<<20)+"a", 1)), "entries, want max_feature_idx+1 = 3"},
		{"many tree sizes", []byte(strings.Replace(good, "tree_sizes=", "tree_sizes="+strings.Repeat("1 ", 4<<20), 1)), "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = ReadText(bytes.NewReader(tc.in)) })
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadText: %v, want a *FormatError with %q", err, tc.want)
			}
			t.Logf("%d bytes in, %.1f MB allocated", len(tc.in), float64(n)/(1<<20))
			if n > budget {
				t.Errorf("ReadText of %d bytes allocated %d MB, want < %d MB", len(tc.in), n>>20, budget>>20)
			}
		})
	}
}

// TestReadTextLimits: each limit is checked, and a file within them reads.
func TestReadTextLimits(t *testing.T) {
	good := writeString(t, handModel())
	if _, err := ReadTextLimits(strings.NewReader(good), DefaultLimits()); err != nil {
		t.Fatalf("the hand model within the default limits: %v", err)
	}
	longest := 0
	for _, l := range strings.Split(good, "\n") {
		longest = max(longest, len(l))
	}
	for _, tc := range []struct {
		name string
		lim  func(*Limits)
		want string
	}{
		{"size", func(l *Limits) { l.MaxBytes = int64(len(good) / 2) }, "more than"},
		{"line", func(l *Limits) { l.MaxLine = longest - 1 }, "longer than"},
		{"trees", func(l *Limits) { l.MaxTrees = 2 }, "more than 2 trees"},
		{"leaves", func(l *Limits) { l.MaxLeaves = 3 }, "out of range [1, 3]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := DefaultLimits()
			tc.lim(&lim)
			_, err := ReadTextLimits(strings.NewReader(good), lim)
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadTextLimits: %v, want a *FormatError with %q", err, tc.want)
			}
		})
	}
}

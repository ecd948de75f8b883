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

// TestAddRowMajor compares addRowMajor (assembly on amd64) with
// addRowMajorGeneric bit for bit: rows in order and through an index,
// more rows than two assembly calls take (asmRows), bins repeating row
// after row.
func TestAddRowMajor(t *testing.T) {
	r := newRand(5)
	for _, tc := range []struct{ n, w, k, o int }{{1, 1, 1, 0}, {7, 3, 8, 2}, {8209, 23, 32, 0}, {1000, 5, 32, 27}} {
		data := make([]uint8, tc.n*tc.k)
		for i := range data {
			data[i] = uint8(r.next() % 7)
			if r.float() < 0.5 {
				data[i] = uint8(r.next())
			}
		}
		off := make([]int, tc.w)
		for j := range off {
			off[j] = j * 256
		}
		gh := make([]gradPair, tc.n)
		for i := range gh {
			gh[i] = gradPair{float32(r.float()*2 - 1), float32(r.float() * 0.25)}
		}
		var idx []int32
		for i := 0; i < tc.n; i += 1 + int(r.next()%3) {
			idx = append(idx, int32(i))
		}
		for _, rows := range [][]int32{nil, idx} {
			m := tc.n
			if rows != nil {
				m = len(rows)
			}
			want := make([]histEntry, tc.w*256, tc.w*256+histPad)
			got := make([]histEntry, tc.w*256, tc.w*256+histPad)
			for i := range want {
				want[i] = histEntry{g: float64(i) / 3, h: 1}
				got[i] = want[i]
			}
			addRowMajorGeneric(want, off, data, tc.k, tc.o, rows, gh[:m])
			addRowMajor(got, off, data, tc.k, tc.o, rows, gh[:m])
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%+v, index %v: entry %d = %v, want %v", tc, rows != nil, i, got[i], want[i])
				}
			}
		}
	}
}

// TestAddRowMajorBounds: a row whose bytes pass the data's end, or a
// histogram offset too close to the end, panics rather than reading or
// writing past it.
func TestAddRowMajorBounds(t *testing.T) {
	hist := make([]histEntry, 256, 256+histPad)
	data := make([]uint8, 10*4)
	gh := make([]gradPair, 2)
	for _, rows := range [][]int32{{0, 10}, {-1, 0}, {2, 11}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("rows %v of 10: no panic", rows)
				}
			}()
			addRowMajor(hist, []int{0}, data, 4, 3, rows, gh)
		}()
	}
	// An offset without a byte bin's room after it in hist's capacity.
	defer func() {
		if recover() == nil {
			t.Errorf("offset 257 of %d entries: no panic", cap(hist))
		}
	}()
	addRowMajor(hist, []int{0, 257}, data, 4, 0, nil, gh)
}

// TestSubtractHist compares subtractHist with subtractHistGeneric.
func TestSubtractHist(t *testing.T) {
	r := newRand(9)
	for _, n := range []int{0, 1, 2, 255, 1031} {
		p, c := make([]histEntry, n), make([]histEntry, n+3)
		for i := range c {
			c[i] = histEntry{g: r.float() - 0.5, h: r.float()}
		}
		for i := range p {
			p[i] = histEntry{g: r.float()*3 - 1, h: r.float() * 2}
		}
		want := append([]histEntry(nil), p...)
		subtractHistGeneric(want, c)
		subtractHist(p, c)
		for i := range p {
			if p[i] != want[i] {
				t.Fatalf("n %d, entry %d = %v, want %v", n, i, p[i], want[i])
			}
		}
	}
}

// TestAddFourAndTwo compares the four- and two-feature builders (assembly
// on amd64) with their Generic versions bit for bit, on columns and on
// gathered rows, bins repeating row after row.
func TestAddFourAndTwo(t *testing.T) {
	r := newRand(7)
	for _, n := range []int{0, 1, 3, 1000} {
		var cols [4][]uint8
		for j := range cols {
			cols[j] = make([]uint8, n+5)
			for i := range cols[j] {
				cols[j][i] = uint8(r.next() % uint64(3+j*80))
			}
		}
		rows := make([]gatheredRow, n+2)
		for i := range rows {
			for j := range rows[i] {
				rows[i][j] = uint8(r.next() % 9)
			}
		}
		gh := make([]gradPair, n)
		for i := range gh {
			gh[i] = gradPair{float32(r.float()*2 - 1), float32(r.float() * 0.25)}
		}
		fresh := func() *[4]*[256]histEntry {
			var hs [4]*[256]histEntry
			for j := range hs {
				hs[j] = new([256]histEntry)
				for k := range hs[j] {
					hs[j][k] = histEntry{g: float64(k) / 7, h: 0.5}
				}
			}
			return &hs
		}
		o := [4]uint8{3, 31, 0, 17}
		for _, tc := range []struct {
			name      string
			got, want func(hs *[4]*[256]histEntry)
		}{
			{"columns x4", func(hs *[4]*[256]histEntry) { addAll8x4(hs, &cols, gh) }, func(hs *[4]*[256]histEntry) { addAll8x4Generic(hs, &cols, gh) }},
			{"columns x2", func(hs *[4]*[256]histEntry) { addAll8x2(hs[0], hs[1], cols[2], cols[3], gh) }, func(hs *[4]*[256]histEntry) { addAll8x2Generic(hs[0], hs[1], cols[2], cols[3], gh) }},
			{"gathered x4", func(hs *[4]*[256]histEntry) { addGathered4(hs, &o, rows, gh) }, func(hs *[4]*[256]histEntry) { addGathered4Generic(hs, &o, rows, gh) }},
			{"gathered x2", func(hs *[4]*[256]histEntry) { addGathered2(hs[0], hs[1], o[1], o[3], rows, gh) }, func(hs *[4]*[256]histEntry) { addGathered2Generic(hs[0], hs[1], o[1], o[3], rows, gh) }},
		} {
			got, want := fresh(), fresh()
			tc.got(got)
			tc.want(want)
			for j := range got {
				if *got[j] != *want[j] {
					t.Fatalf("%s, %d rows: histogram %d differs", tc.name, n, j)
				}
			}
		}
	}
}

//go:build !purego

package gbdt

import "fmt"

// Building histograms is most of training's time. Go adds a bin's
// gradient and hessian as two scalars: two loads, two adds and two
// stores. SSE2, which every amd64 has, adds them as one pair: the same two
// IEEE additions, so the same sums, with half the loads and stores. The
// functions here are their ...Generic versions' names, in assembly
// (histogram_amd64.s); each checks what the assembly cannot.

// asmRows is the most rows one assembly call takes, so that a goroutine
// waiting to stop the world (which cannot preempt assembly) waits
// microseconds, not the length of a large root.
const asmRows = 4096

// addRowMajor is addRowMajorGeneric. It checks every access the assembly
// makes: offsets leave a byte bin's room (histPad) in hist, and every
// row's k bytes from o lie in data.
func addRowMajor(hist []histEntry, off []int, data []uint8, k, o int, rows []int32, gh []gradPair) {
	w := len(off)
	if w == 0 || len(gh) == 0 {
		return
	}
	for _, x := range off {
		if x < 0 || x > cap(hist)-histPad {
			panic(fmt.Sprintf("gbdt: histogram offset %d outside %d entries", x, cap(hist)))
		}
	}
	if k < w || o < 0 || o > len(data)-w {
		panic(fmt.Sprintf("gbdt: %d row-major bytes from %d, %d a row, outside %d", w, o, k, len(data)))
	}
	limit := len(data) - o - w // the last start of a row's bytes
	if rows != nil {
		rows = rows[:len(gh)]
	} else if (len(gh)-1)*k > limit {
		panic(fmt.Sprintf("gbdt: %d rows of %d bytes outside %d", len(gh), k, len(data)))
	}
	h := &hist[:cap(hist)][0]
	for lo := 0; lo < len(gh); lo += asmRows {
		hi := min(lo+asmRows, len(gh))
		d, last, rp := o, limit, (*int32)(nil)
		if rows != nil {
			rp = &rows[lo]
		} else {
			d, last = o+lo*k, limit-lo*k
		}
		if !addRowsSSE2(h, off, &data[d], last, k, rp, gh[lo:hi]) {
			panic(fmt.Sprintf("gbdt: a row among rows[%d:%d] has bytes outside %d", lo, hi, len(data)))
		}
	}
}

// subtractHist is subtractHistGeneric.
func subtractHist(parent, child []histEntry) {
	if len(parent) == 0 {
		return
	}
	child = child[:len(parent)]
	subPairs(&parent[0], &child[0], len(parent))
}

//go:noescape
func addRowsSSE2(hist *histEntry, off []int, data *uint8, limit, k int, rows *int32, gh []gradPair) bool

//go:noescape
func subPairs(dst, src *histEntry, n int)

// The histogram builders of four and two features at a time, columns and
// gathered rows alike, take the byte of feature j of row i at
// p[j] + i*stride: a column's bytes follow each other, a gathered row is
// 32 bytes. The wrappers slice every column or row buffer to the rows
// summed, and a byte bin cannot leave a 256-entry histogram.

func addAll8x4(hs *[4]*[256]histEntry, c *[4][]uint8, gh []gradPair) {
	n := len(gh)
	if n == 0 {
		return
	}
	_, _, _, _ = hs[0][0], hs[1][0], hs[2][0], hs[3][0]
	p := [4]*uint8{&c[0][:n][0], &c[1][:n][0], &c[2][:n][0], &c[3][:n][0]}
	add4SSE2(hs, &p, 1, n, &gh[0])
}

func addAll8x2(h0, h1 *[256]histEntry, c0, c1 []uint8, gh []gradPair) {
	n := len(gh)
	if n == 0 {
		return
	}
	_, _ = h0[0], h1[0]
	add2SSE2(&[2]*[256]histEntry{h0, h1}, &[2]*uint8{&c0[:n][0], &c1[:n][0]}, 1, n, &gh[0])
}

func addGathered4(hs *[4]*[256]histEntry, o *[4]uint8, rows []gatheredRow, gh []gradPair) {
	n := len(gh)
	if n == 0 {
		return
	}
	_, _, _, _ = hs[0][0], hs[1][0], hs[2][0], hs[3][0]
	r := &rows[:n][0]
	p := [4]*uint8{&r[o[0]&31], &r[o[1]&31], &r[o[2]&31], &r[o[3]&31]}
	add4SSE2(hs, &p, len(r), n, &gh[0])
}

func addGathered2(h0, h1 *[256]histEntry, o0, o1 uint8, rows []gatheredRow, gh []gradPair) {
	n := len(gh)
	if n == 0 {
		return
	}
	_, _ = h0[0], h1[0]
	r := &rows[:n][0]
	add2SSE2(&[2]*[256]histEntry{h0, h1}, &[2]*uint8{&r[o0&31], &r[o1&31]}, len(r), n, &gh[0])
}

//go:noescape
func add4SSE2(hs *[4]*[256]histEntry, p *[4]*uint8, stride, n int, gh *gradPair)

//go:noescape
func add2SSE2(hs *[2]*[256]histEntry, p *[2]*uint8, stride, n int, gh *gradPair)

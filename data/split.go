package data

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Fractions are the shares of rows for training, validation and test.
type Fractions struct {
	Train, Validation, Test float64
}

// DefaultFractions is a 60/20/20 split.
func DefaultFractions() Fractions { return Fractions{Train: 0.6, Validation: 0.2, Test: 0.2} }

// ParseFractions reads "0.6/0.2/0.2" (or with commas): train, validation
// and test shares summing to 1.
func ParseFractions(s string) (Fractions, error) {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == ',' })
	if len(parts) != 3 {
		return Fractions{}, fmt.Errorf("split fractions %q: want train/validation/test, e.g. 0.6/0.2/0.2", s)
	}
	var v [3]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return Fractions{}, fmt.Errorf("split fractions %q: %q is not a number", s, p)
		}
		v[i] = f
	}
	f := Fractions{Train: v[0], Validation: v[1], Test: v[2]}
	return f, f.check()
}

func (f Fractions) String() string {
	return fmt.Sprintf("%g/%g/%g", f.Train, f.Validation, f.Test)
}

func (f Fractions) check() error {
	for _, v := range []float64{f.Train, f.Validation, f.Test} {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("split fractions %v: each must be between 0 and 1", f)
		}
	}
	if f.Train == 0 {
		return fmt.Errorf("split fractions %v: the training share must be above 0", f)
	}
	if sum := f.Train + f.Validation + f.Test; math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("split fractions %v: they sum to %g, want 1", f, sum)
	}
	return nil
}

// Splits are row indexes (ascending) of each part of a split.
type Splits struct {
	Train, Validation, Test []int
}

// Split splits the table's rows; see [StratifiedSplit].
func (t *Table) Split(f Fractions, seed uint64) (Splits, error) {
	return StratifiedSplit(t.Label, f, seed)
}

// StratifiedSplit divides rows into training, validation and test parts
// with the given shares, separately within each class, so that each part
// keeps the positive rate. Each class's rows are shuffled by a generator
// seeded with seed (PCG, with its own shuffle, so the result depends only
// on the seed and the labels, not on the Go release), and its counts are
// apportioned by largest remainder, so a share of 0 gets no rows. A part
// with a non-zero share that would miss a class is an error: metrics such
// as AUC need both.
func StratifiedSplit(label []float64, f Fractions, seed uint64) (Splits, error) {
	if err := f.check(); err != nil {
		return Splits{}, err
	}
	var classes [2][]int
	for i, y := range label {
		if y == 1 {
			classes[1] = append(classes[1], i)
		} else {
			classes[0] = append(classes[0], i)
		}
	}
	rng := rand.NewPCG(seed, 0x6372656469747269) // stream constant: "creditri"
	shares := [3]float64{f.Train, f.Validation, f.Test}
	var parts [3][]int
	var have [3]int
	for c, rows := range classes {
		for i := len(rows) - 1; i > 0; i-- {
			j := int(uniform(rng, uint64(i+1)))
			rows[i], rows[j] = rows[j], rows[i]
		}
		n := apportion(len(rows), shares, have)
		start := 0
		for p := range parts {
			if shares[p] > 0 && n[p] == 0 {
				return Splits{}, fmt.Errorf("split %v: the %s part would have no %s rows (%d in all); use more data or a larger share",
					f, [3]string{"training", "validation", "test"}[p], [2]string{"negative", "positive"}[c], len(rows))
			}
			parts[p] = append(parts[p], rows[start:start+n[p]]...)
			start += n[p]
			have[p] += n[p]
		}
	}
	for p := range parts {
		slices.Sort(parts[p])
	}
	return Splits{Train: parts[0], Validation: parts[1], Test: parts[2]}, nil
}

// apportion divides n items by shares (summing to 1): floors first, then
// one more to the parts with the largest remainders. Ties go to the part
// that has fewer rows so far (have, from the other class), then to the
// earlier part, so that rounding does not favour one part in both classes.
func apportion(n int, shares [3]float64, have [3]int) [3]int {
	var out [3]int
	var rem [3]float64
	left := n
	for i, s := range shares {
		x := float64(n) * s
		out[i] = int(math.Floor(x))
		rem[i] = x - float64(out[i])
		left -= out[i]
	}
	for ; left > 0; left-- {
		best := -1
		for i := range rem {
			if shares[i] > 0 && (best < 0 || rem[i] > rem[best] || rem[i] == rem[best] && have[i] < have[best]) {
				best = i
			}
		}
		out[best]++
		rem[best] = -1
	}
	return out
}

// uniform returns a uniform integer in [0, n) (Lemire's method with
// rejection), written here so that the split never changes with the
// standard library's own algorithms.
func uniform(r *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(r.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), n)
		}
	}
	return hi
}

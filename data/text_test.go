package data

import (
	"math"
	"strconv"
	"testing"
)

// TestTextAsFormatFloat: the shortcut for whole numbers writes what
// FormatFloat writes, at the edges of its range too.
func TestTextAsFormatFloat(t *testing.T) {
	values := []float64{0, math.Copysign(0, -1), 1, -1, 99, 100, 50000, 999999, -999999,
		1e6, -1e6, 1e6 - 0.5, 12345678, 1e21, 0.5, -2.25, 1e-7, math.Inf(1), math.Inf(-1),
		math.MaxFloat64, math.SmallestNonzeroFloat64, 1 << 53, math.Nextafter(1e6, 0)}
	c := &Column{Kind: Numeric, Values: values}
	for i, v := range values {
		if got, want := string(c.appendText(nil, i, nil)), strconv.FormatFloat(v, 'g', -1, 64); got != want {
			t.Errorf("text(%v) = %q, want %q", v, got, want)
		}
	}
}

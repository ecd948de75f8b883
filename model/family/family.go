// Package family holds what the model families share without depending on
// package model (which imports them): the sentinel errors that package model
// re-exports, the row-length check every Predict does before trusting a
// row, and the parsing of key=value training parameters.
package family

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Sentinel errors; package model re-exports them under the same names.
var (
	ErrNoExplain = errors.New("explanations are not available for this model")
	ErrRowLength = errors.New("wrong number of features")
	ErrParam     = errors.New("invalid parameter")
)

// Rows checks that every row has n values. Predictors such as leaves return
// 0 silently on a short row, so every family checks first.
func Rows(rows [][]float64, n int) error {
	for i, r := range rows {
		if len(r) != n {
			return fmt.Errorf("row %d has %d values, want %d: %w", i, len(r), n, ErrRowLength)
		}
	}
	return nil
}

// Row checks one row's length.
func Row(row []float64, n int) error {
	if len(row) != n {
		return fmt.Errorf("row has %d values, want %d: %w", len(row), n, ErrRowLength)
	}
	return nil
}

// Params applies key=value training parameters through set, in key order so
// that errors are deterministic. A key not in known (an entry ending in "."
// admits every key with that prefix) is an error that suggests the nearest
// known key and lists the known ones; a bad value is set's error, naming
// the key.
func Params(params map[string]string, known []string, set func(key, value string) error) error {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		key := strings.TrimSpace(k)
		if !isKnown(key, known) {
			return fmt.Errorf("parameter %q: unknown%s: %w", k, hint(key, known), ErrParam)
		}
		if err := set(key, strings.TrimSpace(params[k])); err != nil {
			return fmt.Errorf("parameter %q: %w", key, err)
		}
	}
	return nil
}

func isKnown(key string, known []string) bool {
	for _, k := range known {
		if prefix, ok := strings.CutSuffix(k, "."); ok {
			if strings.HasPrefix(key, prefix+".") && len(key) > len(k) {
				return true
			}
		} else if k == key {
			return true
		}
	}
	return false
}

// hint suggests the nearest known key (by edit distance, if it is near
// enough to be a typo) and lists the known keys when they are few enough
// to read.
func hint(key string, known []string) string {
	best, dist := "", len(key)/3+2
	for _, k := range known {
		if d := editDistance(key, k); d < dist {
			best, dist = k, d
		}
	}
	var b strings.Builder
	if best != "" {
		fmt.Fprintf(&b, "; did you mean %s?", best)
	}
	if len(known) <= 12 {
		fmt.Fprintf(&b, " (known: %s)", strings.Join(known, ", "))
	} else {
		b.WriteString(" (see configs/train.yaml for the family's keys)")
	}
	return b.String()
}

// editDistance is the Levenshtein distance of a and b in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Int parses an integer parameter value that must lie in [lo, hi].
func Int(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer: %w", v, ErrParam)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is outside [%d, %d]: %w", n, lo, hi, ErrParam)
	}
	return n, nil
}

// Float parses a finite float parameter value that must lie in [lo, hi].
func Float(v string, lo, hi float64) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a finite number: %w", v, ErrParam)
	}
	if f < lo || f > hi {
		return 0, fmt.Errorf("%g is outside [%g, %g]: %w", f, lo, hi, ErrParam)
	}
	return f, nil
}

// FormatFloat writes a parameter value for logging: the shortest form that
// reads back to the same float.
func FormatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

package scorecard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/creditrisk/engine/data"
)

// ErrFormat is wrapped by every error about a malformed scorecard file.
var ErrFormat = errors.New("malformed scorecard file")

// maxFileSize bounds what Load reads: a scorecard of a few hundred
// features is well under a megabyte.
const maxFileSize = 64 << 20

// Save writes the model file (FileName, JSON) into dir.
func (m *Model) Save(dir string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // levels such as "... < 100 DM" stay readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(m.f); err != nil {
		return fmt.Errorf("write %s: %w", FileName, err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", FileName, err)
	}
	return nil
}

// Load reads a model file whose features s describes.
func Load(path string, s *data.Schema) (*Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("scorecard: %w", err)
	}
	if st.Size() > maxFileSize {
		return nil, fmt.Errorf("scorecard: %s: %w: %d bytes, more than %d", path, ErrFormat, st.Size(), maxFileSize)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scorecard: %w", err)
	}
	m, err := Parse(b, s)
	if err != nil {
		return nil, fmt.Errorf("scorecard: %s: %w", path, err)
	}
	return m, nil
}

// Parse reads a model file's content and checks it against s: the same
// features in the same order and of the same types; numeric splits finite
// and increasing with one bin more than splits; categorical bins that
// share out the schema's levels exactly; consistent, non-negative counts;
// finite numbers; at least one selected feature; and points equal to what
// the coefficients, WoE and scaling give, so that Score and Predict cannot
// disagree. Every error wraps ErrFormat and names the feature and bin.
func Parse(b []byte, s *data.Schema) (*Model, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrFormat)
	}
	if err := f.check(s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	m := &Model{f: f, schema: s}
	m.index()
	for _, j := range m.sel {
		ft := &m.f.Features[j]
		for b, bin := range append(slices.Clone(ft.Bins), ft.Missing) {
			want := int(math.Round(f.Scaling.points(ft.Coef, bin.WoE, f.Intercept, len(m.sel))))
			if bin.Points != want {
				return nil, fmt.Errorf("%w: feature %q, bin %d (%s): points %d, but coefficient, WoE and scaling give %d",
					ErrFormat, ft.Name, b, bin.Label, bin.Points, want)
			}
		}
	}
	return m, nil
}

func (f *file) check(s *data.Schema) error {
	if f.FormatVersion != formatVersion {
		return fmt.Errorf("format_version %d, want %d", f.FormatVersion, formatVersion)
	}
	sc := f.Scaling
	if !(sc.PDO > 0) || !(sc.BaseOdds > 0) || !allFinite(sc.PDO, sc.BaseOdds, sc.BasePoints, sc.Factor, sc.Offset, f.Intercept) {
		return fmt.Errorf("scaling %+v, intercept %v: want positive finite pdo and odds, finite numbers", sc, f.Intercept)
	}
	if want := newScaling(sc.PDO, sc.BasePoints, sc.BaseOdds); math.Abs(want.Factor-sc.Factor) > 1e-9*math.Abs(want.Factor) ||
		math.Abs(want.Offset-sc.Offset) > 1e-9*math.Max(1, math.Abs(want.Offset)) {
		return fmt.Errorf("scaling: factor %v and offset %v do not follow from pdo %v, base_points %v, base_odds %v (want %v, %v)",
			sc.Factor, sc.Offset, sc.PDO, sc.BasePoints, sc.BaseOdds, want.Factor, want.Offset)
	}
	if len(f.Features) != len(s.Features) {
		return fmt.Errorf("%d features for a schema of %d", len(f.Features), len(s.Features))
	}
	selected := 0
	for j := range f.Features {
		if err := f.Features[j].check(s.Features[j]); err != nil {
			return fmt.Errorf("feature %d (%q): %v", j, f.Features[j].Name, err)
		}
		if f.Features[j].Selected {
			selected++
		}
	}
	if selected == 0 {
		return errors.New("no feature is selected")
	}
	return nil
}

func (f *Feature) check(ft data.Feature) error {
	if f.Name != ft.Name || f.Type != ft.Type {
		return fmt.Errorf("is a %v feature; the schema has %q (%v) in its place", f.Type, ft.Name, ft.Type)
	}
	if _, err := parseTrend(string(f.Trend)); err != nil || f.Trend == Auto {
		return fmt.Errorf("trend %q: want the trend used (ascending, descending, peak or valley)", f.Trend)
	}
	if len(f.Bins) == 0 {
		return errors.New("no bins")
	}
	if !allFinite(f.IV, f.Coef) || f.IV < 0 {
		return fmt.Errorf("iv %v, coef %v: want finite numbers, iv ≥ 0", f.IV, f.Coef)
	}
	if !f.Selected && f.Coef != 0 {
		return fmt.Errorf("coefficient %v for a feature that is not selected", f.Coef)
	}
	switch f.Type {
	case data.Numeric:
		if len(f.Splits) != len(f.Bins)-1 {
			return fmt.Errorf("%d splits for %d bins, want one fewer", len(f.Splits), len(f.Bins))
		}
		for i, v := range f.Splits {
			if !allFinite(v) || i > 0 && v <= f.Splits[i-1] {
				return fmt.Errorf("splits[%d] = %v: want finite, increasing splits", i, v)
			}
		}
	case data.Categorical:
		if len(f.Splits) != 0 {
			return errors.New("splits for a categorical feature")
		}
		seen := make(map[string]bool, len(ft.Levels))
		for _, l := range ft.Levels {
			seen[l] = false
		}
		for b, bin := range f.Bins {
			for _, l := range bin.Levels {
				done, known := seen[l]
				switch {
				case !known:
					return fmt.Errorf("bin %d: level %q is not in the schema", b, l)
				case done:
					return fmt.Errorf("bin %d: level %q is in two bins", b, l)
				}
				seen[l] = true
			}
		}
		for _, l := range ft.Levels {
			if !seen[l] {
				return fmt.Errorf("level %q is in no bin", l)
			}
		}
	default:
		return fmt.Errorf("type %v", f.Type)
	}
	for b, bin := range f.Bins {
		want := strings.Join(bin.Levels, ", ")
		if f.Type == data.Numeric {
			want = intervalLabel(f.Splits, b)
		}
		if bin.Label != want {
			return fmt.Errorf("bin %d: label %q, but its %s make it %q", b, bin.Label, map[bool]string{true: "splits", false: "levels"}[f.Type == data.Numeric], want)
		}
	}
	if f.Missing.Label != "missing" {
		return fmt.Errorf("missing bin: label %q, want \"missing\"", f.Missing.Label)
	}
	for b, bin := range append(slices.Clone(f.Bins), f.Missing) {
		if f.Type == data.Numeric && len(bin.Levels) > 0 {
			return fmt.Errorf("bin %d: levels in a numeric feature's bin", b)
		}
		if b == len(f.Bins) && len(bin.Levels) > 0 {
			return errors.New("the missing bin lists levels")
		}
		if bin.Count < 0 || bin.Events < 0 || bin.NonEvents < 0 || bin.Count != bin.Events+bin.NonEvents {
			return fmt.Errorf("bin %d: count %d, events %d, non-events %d: want non-negative counts that add up", b, bin.Count, bin.Events, bin.NonEvents)
		}
		if !allFinite(bin.EventRate, bin.WoE, bin.IV) || bin.EventRate < 0 || bin.EventRate > 1 || bin.IV < 0 {
			return fmt.Errorf("bin %d: event rate %v, WoE %v, IV %v: want finite numbers, a rate in [0, 1], IV ≥ 0", b, bin.EventRate, bin.WoE, bin.IV)
		}
		if !f.Selected && bin.Points != 0 {
			return fmt.Errorf("bin %d: %d points for a feature that is not selected", b, bin.Points)
		}
	}
	return nil
}

func allFinite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

package scorecard

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/creditrisk/engine/model/family"
)

// Trend is the shape the event rate must follow across a numeric feature's
// bins, in increasing order of the feature's value. The trends name event
// rates: with WoE = ln(non-event share / event share), an ascending event
// rate is a descending WoE.
type Trend string

// Trends. Auto picks per feature: the better of ascending and descending by
// IV, unless peak or valley gains at least [PeakGain] more IV.
const (
	Auto       Trend = "auto"
	Ascending  Trend = "ascending"
	Descending Trend = "descending"
	Peak       Trend = "peak"   // rising, then falling
	Valley     Trend = "valley" // falling, then rising
)

// PeakGain is how much more IV (relative) a peak or valley shape must
// reach before "auto" prefers it to a monotone trend, which is simpler to
// explain and less likely to fit noise.
const PeakGain = 0.10

func parseTrend(s string) (Trend, error) {
	switch t := Trend(strings.ToLower(s)); t {
	case Auto, Ascending, Descending, Peak, Valley:
		return t, nil
	}
	return "", fmt.Errorf("trend %q: want auto, ascending, descending, peak or valley: %w", s, family.ErrParam)
}

// maxPrebins bounds max_prebins: merging is O(P³) in the pre-bins.
const maxPrebins = 100

// Params are the training parameters.
type Params struct {
	// Binning.
	MaxPrebins   int     // max_prebins: quantile pre-bins of a numeric feature (and most level groups of a categorical one)
	MinBinShare  float64 // min_bin_share: least share of the training rows in a bin (the missing bin excepted)
	MinBinEvents int     // min_bin_events: least events (defaults) in a bin; every bin also needs a non-event
	RareShare    float64 // rare_share: categorical levels below this share are pooled into one rare group
	Trend        Trend   // trend: the event-rate trend of numeric features
	Trends       map[string]Trend
	// Selection: features whose IV is below MinIV are left out.
	MinIV float64 // min_iv
	// Logistic regression on the WoE values (package model/logistic).
	L2      float64 // l2
	MaxIter int     // max_iter
	Tol     float64 // tol
	// Points scaling: BasePoints at odds BaseOdds (good:bad), PDO more
	// points to double the odds.
	PDO        float64 // pdo
	BasePoints float64 // base_points
	BaseOdds   float64 // base_odds
}

// Keys lists the parameter keys Set accepts; "trend." stands for every
// trend.NAME, which sets the trend of the feature NAME.
var Keys = []string{"max_prebins", "min_bin_share", "min_bin_events", "rare_share", "trend", "trend.",
	"min_iv", "l2", "max_iter", "tol", "pdo", "base_points", "base_odds"}

// DefaultParams returns the defaults: 50 quantile pre-bins (2% each, so
// that merging can place a cut where the event rate changes, much as
// optbinning's supervised pre-binning does), bins of at least 5% of the
// rows with at least one event, levels under 1% pooled,
// automatic trends, IV ≥ 0.02 (optbinning's usual selection), λ = 1, and
// 600 points at odds 50:1 with 20 points to double the odds.
func DefaultParams() Params {
	return Params{MaxPrebins: 50, MinBinShare: 0.05, MinBinEvents: 1, RareShare: 0.01, Trend: Auto,
		MinIV: 0.02, L2: 1, MaxIter: 100, Tol: 1e-8, PDO: 20, BasePoints: 600, BaseOdds: 50}
}

// Set sets one parameter; the error names the key.
func (p *Params) Set(key, value string) error {
	var err error
	switch key {
	case "max_prebins":
		p.MaxPrebins, err = family.Int(value, 2, maxPrebins)
	case "min_bin_share":
		p.MinBinShare, err = family.Float(value, 0, 0.5)
	case "min_bin_events":
		p.MinBinEvents, err = family.Int(value, 0, math.MaxInt32)
	case "rare_share":
		p.RareShare, err = family.Float(value, 0, 0.5)
	case "trend":
		p.Trend, err = parseTrend(value)
	case "min_iv":
		p.MinIV, err = family.Float(value, 0, math.MaxFloat64)
	case "l2", "lambda":
		p.L2, err = family.Float(value, 0, math.MaxFloat64)
	case "max_iter":
		p.MaxIter, err = family.Int(value, 1, 10000)
	case "tol":
		p.Tol, err = family.Float(value, 0, 1)
	case "pdo":
		p.PDO, err = family.Float(value, math.SmallestNonzeroFloat64, 1e6)
	case "base_points":
		p.BasePoints, err = family.Float(value, -1e6, 1e6)
	case "base_odds":
		p.BaseOdds, err = family.Float(value, math.SmallestNonzeroFloat64, 1e12)
	default:
		name, ok := strings.CutPrefix(key, "trend.")
		if !ok || name == "" {
			return fmt.Errorf("unknown parameter %q (known: %s): %w", key, strings.Join(Keys, ", "), family.ErrParam)
		}
		var t Trend
		if t, err = parseTrend(value); err == nil {
			if p.Trends == nil {
				p.Trends = map[string]Trend{}
			}
			p.Trends[name] = t
		}
	}
	return err
}

// check validates parameters set directly rather than through Set.
func (p Params) check() error {
	switch {
	case p.MaxPrebins < 2 || p.MaxPrebins > maxPrebins:
		return fmt.Errorf("max_prebins %d: want 2 to %d: %w", p.MaxPrebins, maxPrebins, family.ErrParam)
	case !(p.MinBinShare >= 0 && p.MinBinShare <= 0.5):
		return fmt.Errorf("min_bin_share %v: want a share in [0, 0.5]: %w", p.MinBinShare, family.ErrParam)
	case p.MinBinEvents < 0:
		return fmt.Errorf("min_bin_events %d: want 0 or more: %w", p.MinBinEvents, family.ErrParam)
	case !(p.RareShare >= 0 && p.RareShare <= 0.5):
		return fmt.Errorf("rare_share %v: want a share in [0, 0.5]: %w", p.RareShare, family.ErrParam)
	case !(p.MinIV >= 0) || math.IsInf(p.MinIV, 0):
		return fmt.Errorf("min_iv %v: want a finite number ≥ 0: %w", p.MinIV, family.ErrParam)
	case !(p.PDO > 0) || math.IsInf(p.PDO, 0) || !(p.BaseOdds > 0) || math.IsInf(p.BaseOdds, 0) ||
		math.IsNaN(p.BasePoints) || math.IsInf(p.BasePoints, 0):
		return fmt.Errorf("pdo %v, base_odds %v, base_points %v: want positive finite pdo and odds, finite points: %w",
			p.PDO, p.BaseOdds, p.BasePoints, family.ErrParam)
	}
	if _, err := parseTrend(string(p.Trend)); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(p.Trends)) {
		if _, err := parseTrend(string(p.Trends[name])); err != nil {
			return fmt.Errorf("trend.%s: %w", name, err)
		}
	}
	return nil
}

// trend returns the trend asked for feature name.
func (p Params) trend(name string) Trend {
	if t, ok := p.Trends[name]; ok {
		return t
	}
	return p.Trend
}

// Map returns the effective parameters for logging.
func (p Params) Map() map[string]string {
	m := map[string]string{
		"max_prebins":    strconv.Itoa(p.MaxPrebins),
		"min_bin_share":  family.FormatFloat(p.MinBinShare),
		"min_bin_events": strconv.Itoa(p.MinBinEvents),
		"rare_share":     family.FormatFloat(p.RareShare),
		"trend":          string(p.Trend),
		"min_iv":         family.FormatFloat(p.MinIV),
		"l2":             family.FormatFloat(p.L2),
		"max_iter":       strconv.Itoa(p.MaxIter),
		"tol":            family.FormatFloat(p.Tol),
		"pdo":            family.FormatFloat(p.PDO),
		"base_points":    family.FormatFloat(p.BasePoints),
		"base_odds":      family.FormatFloat(p.BaseOdds),
		"prebinning":     "quantile",
		"woe":            "ln(non-event share / event share)",
	}
	for name, t := range p.Trends {
		m["trend."+name] = string(t)
	}
	return m
}

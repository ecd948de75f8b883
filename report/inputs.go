package report

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/internal/fanout"
)

// The files train writes beside the model for this report (their names are
// in tracking/layout.go): the data profile and the fair-lending figures.

// DataProfile describes a run's input: tracking.DataProfileFile.
type DataProfile struct {
	Source   string `json:"source"`
	Digest   string `json:"digest"` // data.Table.Digest of the whole input
	Rows     int    `json:"rows"`
	LabelCol string `json:"label"`
	Positive string `json:"positive"`
	// Parts are the split's parts: train, validation, test.
	Parts []Part `json:"parts"`
	// Columns profile every column of the input but the label, features
	// and measured-only ones (protected, date) alike, on all rows.
	Columns []ColumnProfile `json:"columns"`
	// Period is the date column's range and monthly default rates, nil
	// without a date column.
	Period *Period `json:"period,omitempty"`
	// TrainScores is the histogram of the model's probabilities of default
	// on its training rows (deciles), the reference of the score PSI.
	TrainScores *data.Histogram `json:"train_scores,omitempty"`
}

// Part is one part of the split.
type Part struct {
	Name        string  `json:"name"`
	Rows        int     `json:"rows"`
	Defaults    int     `json:"defaults"`
	DefaultRate float64 `json:"default_rate"`
}

// ColumnProfile summarises one column.
type ColumnProfile struct {
	Name    string  `json:"name"`
	Type    string  `json:"type"` // numeric or categorical
	Role    string  `json:"role"` // feature, protected (measured, not a feature), protected feature, date
	Missing float64 `json:"missing"`
	// Numeric columns: quantiles of the non-missing values.
	Min    *float64 `json:"min,omitempty"`
	P25    *float64 `json:"p25,omitempty"`
	Median *float64 `json:"median,omitempty"`
	P75    *float64 `json:"p75,omitempty"`
	Max    *float64 `json:"max,omitempty"`
	Mean   *float64 `json:"mean,omitempty"`
	// Categorical columns: the levels by count, at most MaxLevels.
	Levels []LevelProfile `json:"levels,omitempty"`
	// OtherLevels counts the levels beyond MaxLevels.
	OtherLevels int `json:"other_levels,omitempty"`
}

// LevelProfile is one categorical level's share and default rate.
type LevelProfile struct {
	Level       string  `json:"level"`
	Rows        int     `json:"rows"`
	DefaultRate float64 `json:"default_rate"`
}

// MaxLevels bounds the levels a column profile lists.
const MaxLevels = 12

// Period is a date column's range.
type Period struct {
	Column  string   `json:"column"`
	First   string   `json:"first"`
	Last    string   `json:"last"`
	Missing int      `json:"missing"`
	Months  []Period `json:"months,omitempty"`
	// Rows and DefaultRate of a month (Months' entries); the whole period
	// has them too.
	Rows        int     `json:"rows"`
	DefaultRate float64 `json:"default_rate"`
}

// Roles of a profiled column.
const (
	RoleFeature          = "feature"
	RoleProtected        = "protected"         // measured for fair lending, not a model feature
	RoleProtectedFeature = "protected feature" // measured, and kept as a feature
	RoleDate             = "date"
)

// Describe profiles the whole input t split into parts; roles names the
// columns whose role is not "feature" (protected, date), and date, when not
// empty, is the date column to take the period from.
func Describe(t *data.Table, s data.Splits, roles map[string]string, date string) (*DataProfile, error) {
	p := &DataProfile{Source: t.Source, Rows: t.Rows(), LabelCol: t.LabelCol, Positive: t.Positive}
	// The digest and the columns' profiles each read the whole input (a
	// sort of every numeric column): they are made on all cores, as the
	// run waits for them before it trains.
	digest := make(chan string, 1)
	go func() { digest <- t.Digest() }()
	for _, part := range []struct {
		name string
		rows []int
	}{{"train", s.Train}, {"validation", s.Validation}, {"test", s.Test}} {
		d := 0
		for _, i := range part.rows {
			d += int(t.Label[i])
		}
		p.Parts = append(p.Parts, Part{Name: part.name, Rows: len(part.rows), Defaults: d, DefaultRate: rate(d, len(part.rows))})
	}
	p.Columns = make([]ColumnProfile, len(t.Columns))
	fanout.Each(len(t.Columns), runtime.GOMAXPROCS(0), func(i int) error {
		c := &t.Columns[i]
		role := roles[c.Name]
		if role == "" {
			role = RoleFeature
		}
		p.Columns[i] = profileColumn(c, t.Label, role)
		return nil
	})
	p.Digest = <-digest
	if date == "" {
		return p, nil
	}
	c, ok := t.Column(date)
	if !ok {
		return nil, fmt.Errorf("data profile: date column %q is not in %s", date, t.Source)
	}
	per, err := period(c, t.Label)
	if err != nil {
		return nil, err
	}
	p.Period = per
	return p, nil
}

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func profileColumn(c *data.Column, labels []float64, role string) ColumnProfile {
	cp := ColumnProfile{Name: c.Name, Type: c.Kind.String(), Role: role}
	missing := 0
	var vals []float64
	for _, v := range c.Values {
		if math.IsNaN(v) {
			missing++
			continue
		}
		vals = append(vals, v)
	}
	cp.Missing = rate(missing, len(c.Values))
	if c.Kind == data.Categorical {
		rows, bads := make([]int, len(c.Levels)), make([]int, len(c.Levels))
		for i, v := range c.Values {
			if !math.IsNaN(v) {
				rows[int(v)]++
				bads[int(v)] += int(labels[i])
			}
		}
		for k, l := range c.Levels {
			if rows[k] > 0 {
				cp.Levels = append(cp.Levels, LevelProfile{Level: l, Rows: rows[k], DefaultRate: rate(bads[k], rows[k])})
			}
		}
		slices.SortStableFunc(cp.Levels, func(a, b LevelProfile) int { return b.Rows - a.Rows })
		if len(cp.Levels) > MaxLevels {
			cp.OtherLevels = len(cp.Levels) - MaxLevels
			cp.Levels = cp.Levels[:MaxLevels]
		}
		return cp
	}
	if len(vals) == 0 {
		return cp
	}
	sum := 0.0
	for _, v := range vals {
		sum += v
	}
	mean := sum / float64(len(vals))
	q := data.Quantiles(vals, 0, 0.25, 0.5, 0.75, 1)
	cp.Min, cp.P25, cp.Median, cp.P75, cp.Max, cp.Mean = &q[0], &q[1], &q[2], &q[3], &q[4], &mean
	return cp
}

// dateLayouts are the date forms a date column may use.
var dateLayouts = []string{"2006-01-02", "2006-01", "2006/01/02", "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05", "02/01/2006"}

// parseDate reads a date column's value in one of dateLayouts.
func parseDate(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, strings.TrimSpace(s)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// period reads a categorical date column (its levels are the dates).
func period(c *data.Column, labels []float64) (*Period, error) {
	if c.Kind != data.Categorical && c.Kind != data.Numeric {
		return nil, fmt.Errorf("date column %q has kind %v", c.Name, c.Kind)
	}
	p := &Period{Column: c.Name}
	type month struct{ rows, bads int }
	months := map[string]*month{}
	var first, last time.Time
	bads := 0
	for i, v := range c.Values {
		if math.IsNaN(v) {
			p.Missing++
			continue
		}
		text := strconv.FormatFloat(v, 'f', -1, 64)
		if c.Kind == data.Categorical {
			text = c.Levels[int(v)]
		}
		d, ok := parseDate(text)
		if !ok {
			return nil, fmt.Errorf("date column %q, row %d: %q is not a date (want YYYY-MM-DD, YYYY-MM, YYYY/MM/DD, DD/MM/YYYY or RFC 3339)", c.Name, i+1, text)
		}
		if p.Rows == 0 || d.Before(first) {
			first = d
		}
		if p.Rows == 0 || d.After(last) {
			last = d
		}
		p.Rows++
		bads += int(labels[i])
		key := d.Format("2006-01")
		if months[key] == nil {
			months[key] = &month{}
		}
		months[key].rows++
		months[key].bads += int(labels[i])
	}
	if p.Rows == 0 {
		return nil, fmt.Errorf("date column %q has no dates", c.Name)
	}
	p.First, p.Last, p.DefaultRate = first.Format("2006-01-02"), last.Format("2006-01-02"), rate(bads, p.Rows)
	keys := make([]string, 0, len(months))
	for k := range months {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		m := months[k]
		p.Months = append(p.Months, Period{First: k, Rows: m.rows, DefaultRate: rate(m.bads, m.rows)})
	}
	return p, nil
}

// Protected is one protected characteristic measured for fair lending.
type Protected struct {
	Column string `json:"column" yaml:"column"`
	// Bands are the edges that group a numeric column (evaluate.Bands),
	// e.g. 25, 35, 50 for age; without them each value is a group.
	Bands []float64 `json:"bands,omitempty" yaml:"bands"`
}

// String is the --protected form: COL or COL:EDGE,EDGE,...
func (p Protected) String() string {
	if len(p.Bands) == 0 {
		return p.Column
	}
	e := make([]string, len(p.Bands))
	for i, b := range p.Bands {
		e[i] = strconv.FormatFloat(b, 'g', -1, 64)
	}
	return p.Column + ":" + strings.Join(e, ",")
}

// ParseProtected reads the --protected form COL or COL:EDGE,EDGE,... (band
// edges, finite and increasing).
func ParseProtected(s string) (Protected, error) {
	col, edges, banded := strings.Cut(strings.TrimSpace(s), ":")
	p := Protected{Column: strings.TrimSpace(col)}
	if p.Column == "" {
		return p, fmt.Errorf("%q: want COLUMN or COLUMN:EDGE,EDGE,... (e.g. age_in_years:25,35,50)", s)
	}
	if !banded {
		return p, nil
	}
	for _, e := range strings.Split(edges, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(e), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return p, fmt.Errorf("%q: band edge %q is not a finite number", s, e)
		}
		if n := len(p.Bands); n > 0 && v <= p.Bands[n-1] {
			return p, fmt.Errorf("%q: band edges must increase", s)
		}
		p.Bands = append(p.Bands, v)
	}
	return p, nil
}

// Groups names each row's group of the characteristic in column c: the
// category level (categorical), the band (numeric with Bands), or the
// value itself (numeric without); "missing" for a missing value.
func (p Protected) Groups(c *data.Column) ([]string, error) {
	switch {
	case c.Kind == data.Categorical && len(p.Bands) > 0:
		return nil, fmt.Errorf("protected column %q is categorical; bands apply to numeric columns", p.Column)
	case c.Kind == data.Categorical:
		out := make([]string, len(c.Values))
		for i, v := range c.Values {
			out[i] = "missing"
			if !math.IsNaN(v) {
				out[i] = c.Levels[int(v)]
			}
		}
		return out, nil
	case len(p.Bands) > 0:
		return evaluate.Bands(c.Values, p.Bands)
	}
	out := make([]string, len(c.Values))
	for i, v := range c.Values {
		out[i] = "missing"
		if !math.IsNaN(v) {
			out[i] = strconv.FormatFloat(v, 'g', -1, 64)
		}
	}
	return out, nil
}

// Fairness is the content of tracking.FairnessFile: the test split's
// fair-lending figures per protected characteristic.
type Fairness struct {
	Cutoff          float64          `json:"cutoff"`
	Characteristics []Characteristic `json:"characteristics"`
}

// Characteristic is one protected characteristic's figures.
type Characteristic struct {
	Protected
	// Feature says whether the column is also a model feature
	// (--keep-protected); by default it is measured only.
	Feature bool                     `json:"feature"`
	Report  *evaluate.FairnessReport `json:"report"`
}

// MetricPrefix is the prefix of a characteristic's metrics in the run:
// test_fairness/COLUMN/ followed by evaluate.FairnessReport.Metrics keys.
func MetricPrefix(column string) string { return "test_fairness/" + evaluate.MetricKey(column) + "/" }

// MinAdverseImpactRatio is the lowest adverse impact ratio over the
// characteristics, and the characteristic and group it belongs to; ok is
// false without any.
func (f *Fairness) MinAdverseImpactRatio() (ratio float64, column, group string, ok bool) {
	ratio = math.Inf(1)
	for _, c := range f.Characteristics {
		if c.Report != nil && c.Report.MinAdverseImpactRatio < ratio {
			ratio, column, group, ok = c.Report.MinAdverseImpactRatio, c.Column, c.Report.LeastFavoured, true
		}
	}
	return ratio, column, group, ok
}

// ReadFairness reads a fairness file and checks it: every characteristic
// names its column once and has figures for at least one group, with
// ratios and rates in [0, 1].
func ReadFairness(path string) (*Fairness, error) {
	var f Fairness
	if err := readJSON(path, &f); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, c := range f.Characteristics {
		bad := func(msg string) error {
			return fmt.Errorf("%s: characteristics[%d] (%q): %s", path, i, c.Column, msg)
		}
		switch {
		case strings.TrimSpace(c.Column) == "":
			return nil, bad("no column")
		case seen[c.Column]:
			return nil, bad("column listed twice")
		case c.Report == nil || len(c.Report.Groups) == 0:
			return nil, bad("no figures")
		case !unit(c.Report.MinAdverseImpactRatio) || !unit(c.Report.TPRGap):
			return nil, bad("ratios outside [0, 1]")
		}
		for _, g := range c.Report.Groups {
			if !unit(g.ApprovalRate) || !unit(g.AdverseImpactRatio) || g.Rows < 0 {
				return nil, bad(fmt.Sprintf("group %q: rates outside [0, 1]", g.Group))
			}
		}
		seen[c.Column] = true
	}
	return &f, nil
}

func unit(v float64) bool { return v >= 0 && v <= 1 }

// ReadDataProfile reads a data profile file.
func ReadDataProfile(path string) (*DataProfile, error) {
	var p DataProfile
	if err := readJSON(path, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// WriteJSON writes v indented to path.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o666); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

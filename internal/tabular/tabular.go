// Package tabular holds the tables that gbdt's cross-checks and benchmark
// feed to both our trainer and Python LightGBM: CSV reading with string
// columns turned into integer category codes, CSV writing that Python reads
// back to the same doubles, deterministic splits, and synthetic data sets
// generated from a seed.
package tabular

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Table is a data set in rows: Rows[i][f] is feature f of row i, NaN when
// missing. Categorical features hold integer codes 0, 1, ...
type Table struct {
	Names       []string
	Categorical []bool
	Rows        [][]float64
	Labels      []float64 // 0 or 1
	// Levels are, for a categorical feature read from strings, the strings
	// of codes 0, 1, ...; nil otherwise.
	Levels [][]string
}

// ErrCSV is wrapped by every error about a CSV file's content.
var ErrCSV = errors.New("bad CSV")

// ReadCSV reads a CSV file with a header. The label column is 1 where it
// equals positive, else 0; drop names columns that are not features. A
// column with a non-numeric value is categorical: its distinct strings, in
// sorted order, become codes 0, 1, ... (numeric-looking cells of such a
// column are first normalised, so "1.0" and "1" are one level); empty cells
// are missing (NaN). LightGBM needs names without spaces, so spaces in names
// become "_". Numeric columns are kept as numbers while reading, so memory
// stays near that of the final table.
func ReadCSV(r io.Reader, label, positive string, drop ...string) (*Table, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read CSV header: %w", err)
	}
	header = slices.Clone(header)
	li := slices.Index(header, label)
	if li < 0 {
		return nil, fmt.Errorf("%w: no label column %q in header", ErrCSV, label)
	}
	var cols []int
	t := &Table{}
	for i, h := range header {
		if i == li || slices.Contains(drop, h) {
			continue
		}
		cols = append(cols, i)
		t.Names = append(t.Names, strings.ReplaceAll(strings.TrimSpace(h), " ", "_"))
	}
	// One column at a time: numbers while every cell parses, strings from
	// the first cell that does not (interned, since a cell's string shares
	// memory with its whole line).
	nums := make([][]float64, len(cols))
	strs := make([][]string, len(cols))
	intern := map[string]string{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read CSV: %w", err)
		}
		y := 0.0
		if rec[li] == positive {
			y = 1
		}
		t.Labels = append(t.Labels, y)
		for f, c := range cols {
			cell := strings.TrimSpace(rec[c])
			if strs[f] == nil {
				v := math.NaN()
				if cell != "" {
					x, err := strconv.ParseFloat(cell, 64)
					if err == nil {
						v = x
					} else {
						strs[f] = make([]string, 0, cap(nums[f]))
						for _, x := range nums[f] {
							strs[f] = append(strs[f], numText(x))
						}
						nums[f] = nil
					}
				}
				if strs[f] == nil {
					nums[f] = append(nums[f], v)
					continue
				}
			}
			s, ok := intern[cell]
			if !ok {
				s = strings.Clone(cell)
				intern[s] = s
			}
			strs[f] = append(strs[f], s)
		}
	}
	n := len(t.Labels)
	if n == 0 {
		return nil, fmt.Errorf("%w: no data rows", ErrCSV)
	}
	t.Rows = make([][]float64, n)
	flat := make([]float64, n*len(cols))
	for i := range t.Rows {
		t.Rows[i] = flat[i*len(cols) : (i+1)*len(cols) : (i+1)*len(cols)]
	}
	t.Categorical = make([]bool, len(cols))
	t.Levels = make([][]string, len(cols))
	for f := range cols {
		if strs[f] == nil {
			for i, v := range nums[f] {
				t.Rows[i][f] = v
			}
			nums[f] = nil
			continue
		}
		var levels []string
		seen := map[string]bool{}
		for _, s := range strs[f] {
			if s != "" && !seen[s] {
				seen[s] = true
				levels = append(levels, s)
			}
		}
		slices.Sort(levels)
		code := make(map[string]float64, len(levels))
		for i, s := range levels {
			code[s] = float64(i)
		}
		t.Categorical[f] = true
		t.Levels[f] = levels
		for i, s := range strs[f] {
			t.Rows[i][f] = math.NaN()
			if s != "" {
				t.Rows[i][f] = code[s]
			}
		}
		strs[f] = nil
	}
	return t, nil
}

// numText is the text of an empty (NaN) or numeric cell met before a
// column turned out to be categorical.
func numText(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// WriteCSV writes the features and a "label" column, with a header;
// missing values are empty cells, numbers are written with the shortest
// text that reads back to the same double.
func (t *Table) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(strings.Join(t.Names, ",") + ",label\n")
	var buf []byte
	for i, row := range t.Rows {
		buf = buf[:0]
		for _, v := range row {
			if !math.IsNaN(v) {
				buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
			}
			buf = append(buf, ',')
		}
		buf = strconv.AppendFloat(buf, t.Labels[i], 'g', -1, 64)
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

// Subset returns the rows at idx (sharing their slices).
func (t *Table) Subset(idx []int) *Table {
	s := &Table{Names: t.Names, Categorical: t.Categorical, Levels: t.Levels}
	for _, i := range idx {
		s.Rows = append(s.Rows, t.Rows[i])
		s.Labels = append(s.Labels, t.Labels[i])
	}
	return s
}

// Split holds the row indices of each part of a train/validation/test
// split, in increasing order.
type Split struct {
	Train []int `json:"train"`
	Valid []int `json:"valid"`
	Test  []int `json:"test"`
}

// NewSplit shuffles 0..n-1 with seed and cuts it into train, validation
// and test parts with the given fractions (test takes the rest).
func NewSplit(n int, seed uint64, train, valid float64) Split {
	r := NewRand(seed)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.Intn(i + 1)
		perm[i], perm[j] = perm[j], perm[i]
	}
	a := int(math.Round(float64(n) * train))
	b := a + int(math.Round(float64(n)*valid))
	s := Split{Train: slices.Clone(perm[:a]), Valid: slices.Clone(perm[a:b]), Test: slices.Clone(perm[b:])}
	slices.Sort(s.Train)
	slices.Sort(s.Valid)
	slices.Sort(s.Test)
	return s
}

// Rand is a splitmix64 generator: its output depends only on the seed,
// whatever the Go version, so generated data sets never change.
type Rand struct{ s uint64 }

// NewRand returns a generator seeded with seed.
func NewRand(seed uint64) *Rand { return &Rand{s: seed} }

// Uint64 returns the next 64 random bits.
func (r *Rand) Uint64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Float returns a uniform number in [0, 1).
func (r *Rand) Float() float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// Intn returns a uniform integer in [0, n).
func (r *Rand) Intn(n int) int { return int(r.Uint64() % uint64(n)) }

// Normal returns a standard normal number (Box-Muller).
func (r *Rand) Normal() float64 {
	u := 1 - r.Float() // (0, 1]
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.Float())
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// Credit generates n rows of a credit-like data set with missing values
// and categorical features: income-like and ratio features with NaNs whose
// missingness itself carries risk, a feature with many exact zeros, a small
// and a wide (60-level) categorical feature, and noise features.
func Credit(n int, seed uint64) *Table {
	r := NewRand(seed)
	t := &Table{
		Names:       []string{"score", "income", "utilisation", "region", "product", "tenure", "noise1", "noise2", "noise3"},
		Categorical: []bool{false, false, false, true, true, false, false, false, false},
	}
	t.Levels = make([][]string, len(t.Names))
	// Each level of the wide feature gets a fixed effect.
	effect := make([]float64, 60)
	for i := range effect {
		effect[i] = r.Normal() * 0.8
	}
	regionEffect := []float64{0.6, -0.4, 0.1, 1.0, -0.8, 0.0, 0.3, -0.2}
	for i := 0; i < n; i++ {
		score := r.Normal()
		income := math.Exp(10 + 0.6*r.Normal())
		util := 0.0
		if r.Float() < 0.7 {
			util = r.Float() * 1.2
		}
		region := float64(r.Intn(8))
		product := float64(r.Intn(60))
		tenure := math.Floor(r.Float() * 30)
		z := -1.0 - 1.2*score + 0.9*util*util + regionEffect[int(region)] + effect[int(product)] -
			0.4*math.Log(income/20000) - 0.03*tenure
		if score > 1 && util > 0.8 { // an interaction
			z += 1.0
		}
		if r.Float() < 0.12 {
			score = math.NaN()
			z += 0.7 // missing score: riskier
		}
		if r.Float() < 0.08 {
			income = math.NaN()
		}
		if r.Float() < 0.03 {
			region = math.NaN()
		}
		row := []float64{score, income, util, region, product, tenure, r.Normal(), r.Float(), float64(r.Intn(5))}
		t.Rows = append(t.Rows, row)
		y := 0.0
		if r.Float() < sigmoid(z) {
			y = 1
		}
		t.Labels = append(t.Labels, y)
	}
	return t
}

// Numeric generates n rows of nf standard-normal features (rounded to four
// decimals) whose label follows a logistic model with pairwise interactions
// and thresholds, in the spirit of the Higgs benchmark (28 features there).
func Numeric(n, nf int, seed uint64) *Table {
	r := NewRand(seed)
	t := &Table{Categorical: make([]bool, nf), Levels: make([][]string, nf)}
	w := make([]float64, nf)
	for f := range w {
		t.Names = append(t.Names, "x"+strconv.Itoa(f))
		w[f] = r.Normal() * 0.5
	}
	for i := 0; i < n; i++ {
		row := make([]float64, nf)
		for f := range row {
			// Four decimals keep a 1,000,000-row CSV near 200 MB.
			row[f] = math.Round(r.Normal()*1e4) / 1e4
		}
		var z float64
		for f, v := range row {
			z += w[f] * v
		}
		for f := 0; f+1 < nf; f += 2 {
			z += 0.3 * row[f] * row[f+1]
		}
		if nf > 3 && row[3] > 0.5 {
			z += 0.8
		}
		y := 0.0
		if r.Float() < sigmoid(z) {
			y = 1
		}
		t.Rows = append(t.Rows, row)
		t.Labels = append(t.Labels, y)
	}
	return t
}

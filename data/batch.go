package data

import (
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// Batch is a CSV file of new rows encoded by a schema for scoring (pipeline
// predict). Columns are matched to features by name; the file's other
// columns (an ID, or the label) are passed through for the output.
type Batch struct {
	Source string
	X      [][]float64 // one feature vector per row, in schema order
	Lines  []int       // line of each row in the source
	// Extra names the file's columns that are not features, in file
	// order; ExtraValues holds their raw values, one slice per row.
	Extra       []string
	ExtraValues [][]string
	// Unseen counts, per feature, the rows whose category was not seen in
	// training (encoded as missing).
	Unseen map[string]int
}

// Rows returns the number of rows.
func (b *Batch) Rows() int { return len(b.X) }

// LoadBatchFile loads a CSV file of new rows; see [Schema.LoadBatch].
func (s *Schema) LoadBatchFile(path string) (*Batch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load batch: %w", err)
	}
	defer f.Close()
	return s.LoadBatch(f, path)
}

// LoadBatch reads a CSV file with a header row and encodes each row by the
// schema, with the same CSV and missing-value rules as [Load]. A required
// feature without a column, a non-number in a numeric feature's column and
// malformed CSV are errors (*Error, naming file, line and column); a
// non-required feature without a column is missing in every row. A header
// with no rows gives an empty batch.
func (s *Schema) LoadBatch(r io.Reader, name string) (*Batch, error) {
	if name == "" {
		name = "input"
	}
	idx, err := s.lookups()
	if err != nil {
		return nil, fmt.Errorf("load batch %s: invalid schema: %w", name, err)
	}
	src, err := openCSV(r, name)
	if err != nil {
		return nil, err
	}
	b := &Batch{Source: name, Unseen: map[string]int{}}
	colOf := make([]int, len(s.Features)) // feature -> file column, -1 if absent
	for i := range colOf {
		colOf[i] = -1
	}
	var extraCols []int
	var missing []string
	for j, h := range src.header {
		if i, ok := idx.byName[h]; ok {
			colOf[i] = j
		} else {
			b.Extra = append(b.Extra, h)
			extraCols = append(extraCols, j)
		}
	}
	for i, f := range s.Features {
		if colOf[i] < 0 && f.Required {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return nil, &Error{File: name, Line: 1, Column: missing[0],
			Msg: fmt.Sprintf("required feature columns missing: %s; the file has %s",
				quoteList(missing, 20), quoteList(src.header, 50)),
			Kind: ErrMissingFeature}
	}
	nf := len(s.Features)
	for {
		rec, line, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		x := make([]float64, nf)
		for i := range s.Features {
			f := &s.Features[i]
			if colOf[i] < 0 {
				x[i] = math.NaN()
				continue
			}
			v := strings.TrimSpace(rec[colOf[i]])
			if f.Type == Categorical {
				c, unseen := idx.category(i, v)
				if unseen {
					b.Unseen[f.Name]++
				}
				x[i] = c
				continue
			}
			if isMissing(v) {
				x[i] = math.NaN()
				continue
			}
			n, ok := parseNumber(v)
			if !ok {
				return nil, &Error{File: name, Line: line, Column: f.Name,
					Msg: fmt.Sprintf("value %q is not a number (the feature is numeric)", v), Kind: ErrNotNumber}
			}
			if math.IsInf(n, 0) {
				return nil, &Error{File: name, Line: line, Column: f.Name,
					Msg: fmt.Sprintf("value %q is not a finite number", v), Kind: ErrNotFinite}
			}
			x[i] = n
		}
		extra := make([]string, len(extraCols))
		for k, j := range extraCols {
			extra[k] = rec[j]
		}
		b.X = append(b.X, x)
		b.Lines = append(b.Lines, line)
		b.ExtraValues = append(b.ExtraValues, extra)
	}
	b.Extra = slices.Clip(b.Extra)
	return b, nil
}

package data

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
)

// WriteCSV writes the table back as CSV in its source's form: the features
// (categorical ones as their level strings, missing values empty) and the
// label column with its original values. Loading the result with the same
// label and positive value gives the same table, so a held-out split can
// travel as a plain file (train records its test split this way).
func (t *Table) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	header := append(t.FeatureNames(), t.LabelCol)
	cw := csv.NewWriter(bw)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw.Flush()
	// Rows are written as bytes, without a string per value: the text
	// values (levels, the label's) are quoted once each, by encoding/csv,
	// and numbers never need quotes.
	levels := make([][][]byte, len(t.Columns))
	for j, c := range t.Columns {
		if c.Kind == Categorical {
			levels[j] = csvFields(c.Levels...)
		}
	}
	labels := csvFields(t.Negative, t.Positive)
	var line []byte
	for i, y := range t.Label {
		line = line[:0]
		for j := range t.Columns {
			line = t.Columns[j].appendText(line, i, levels[j])
			line = append(line, ',')
		}
		line = append(line, labels[min(int(y), 1)]...)
		if _, err := bw.Write(append(line, '\n')); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// csvFields is each of values as a field of a CSV line.
func csvFields(values ...string) [][]byte {
	out := make([][]byte, len(values))
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	for i, v := range values {
		buf.Reset()
		cw.Write([]string{v}) // a bytes.Buffer does not fail
		cw.Flush()
		out[i] = bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	return out
}

// appendText appends row i's value as it would appear in a CSV file;
// levels are a categorical column's levels as CSV fields.
func (c *Column) appendText(b []byte, i int, levels [][]byte) []byte {
	v := c.Values[i]
	switch {
	case math.IsNaN(v):
		return b
	case c.Kind == Categorical:
		return append(b, levels[int(v)]...)
	case v == math.Trunc(v) && math.Abs(v) < 1e6 && (v != 0 || !math.Signbit(v)):
		// Whole numbers, most of a credit file, written as FormatFloat
		// writes them below 1e6 (from there on it uses an exponent), at a
		// fraction of its cost; -0 keeps its sign through FormatFloat.
		return strconv.AppendInt(b, int64(v), 10)
	default:
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	}
}

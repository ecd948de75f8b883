package data

import (
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
	cw := csv.NewWriter(w)
	header := append(t.FeatureNames(), t.LabelCol)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	rec := make([]string, len(header))
	for i := range t.Label {
		for j, c := range t.Columns {
			rec[j] = c.text(i)
		}
		rec[len(rec)-1] = t.Negative
		if t.Label[i] == 1 {
			rec[len(rec)-1] = t.Positive
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// text is row i's value as it would appear in a CSV file.
func (c *Column) text(i int) string {
	v := c.Values[i]
	switch {
	case math.IsNaN(v):
		return ""
	case c.Kind == Categorical:
		return c.Levels[int(v)]
	default:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
}

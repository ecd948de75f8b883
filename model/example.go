package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/creditrisk/engine/data"
)

var nan = math.NaN()

// writeExample writes input_example.json (pandas split orient, as MLflow
// 3.x writes it) and serving_input_example.json (the same rows as an
// MLflow scoring request). Categorical features are written as their
// level strings, as the signature declares them; NaN is written as null,
// as pandas does.
func writeExample(dir string, s *data.Schema, rows [][]float64) error {
	cols, err := json.Marshal(s.Names())
	if err != nil {
		return fmt.Errorf("save model: input example: %w", err)
	}
	var rb bytes.Buffer
	rb.WriteByte('[')
	for r, row := range rows {
		if len(row) != len(s.Features) {
			return fmt.Errorf("save model: input example row %d has %d values, want %d: %w", r, len(row), len(s.Features), ErrRowLength)
		}
		if r > 0 {
			rb.WriteString(", ")
		}
		rb.WriteByte('[')
		for i, v := range row {
			if i > 0 {
				rb.WriteString(", ")
			}
			switch {
			case math.IsNaN(v):
				rb.WriteString("null")
			case math.IsInf(v, 0):
				return fmt.Errorf("save model: input example row %d, feature %q is infinite", r, s.Features[i].Name)
			case s.Features[i].Type == data.Categorical:
				f := &s.Features[i]
				c := int(v)
				if float64(c) != v || c < 0 || c >= len(f.Levels) {
					return fmt.Errorf("save model: input example row %d, feature %q: code %v is not one of its %d levels", r, f.Name, v, len(f.Levels))
				}
				// Levels such as "... < 0 DM" stay readable: no HTML escapes.
				enc := json.NewEncoder(&rb)
				enc.SetEscapeHTML(false)
				if err := enc.Encode(f.Levels[c]); err != nil {
					return fmt.Errorf("save model: input example: %w", err)
				}
				rb.Truncate(rb.Len() - 1) // Encode's newline
			default:
				rb.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			}
		}
		rb.WriteByte(']')
	}
	rb.WriteByte(']')
	ex := fmt.Sprintf(`{"columns": %s, "data": %s}`, spaced(cols), rb.String())
	if err := writeFile(dir, ExampleFile, []byte(ex)); err != nil {
		return err
	}
	var sb bytes.Buffer
	if err := json.Indent(&sb, []byte(`{"dataframe_split": `+ex+`}`), "", "  "); err != nil {
		return fmt.Errorf("save model: serving input example: %w", err)
	}
	return writeFile(dir, ServingExampleFile, sb.Bytes())
}

// spaced rewrites compact JSON with Python's separators.
func spaced(b []byte) []byte {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	out, err := marshalPython(v)
	if err != nil {
		return b
	}
	return out
}

package data

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"
)

// Schema describes a model's input: its features in order, their types and
// category levels, and the label it was trained on. Its JSON form is saved
// in the model directory:
//
//	{"features":[{"name":"age","type":"numeric","required":true},
//	             {"name":"housing","type":"categorical","levels":["free","own","rent"],"required":true}],
//	 "label":"creditability","positive":"bad"}
//
// Build one with [Table.Schema] or [ParseSchema]; a Schema is not modified
// after that and is safe for concurrent use.
type Schema struct {
	Features []Feature `json:"features"`
	Label    string    `json:"label"`
	Positive string    `json:"positive"`

	idx *schemaIndex // lookups, built by Table.Schema and ParseSchema
}

// Feature is one input of a model. Levels (categorical features only) are
// the training levels; a value's code is its index. A Required feature
// must be present in every request (its value may be null, meaning
// missing).
type Feature struct {
	Name     string   `json:"name"`
	Type     Kind     `json:"type"`
	Levels   []string `json:"levels,omitempty"`
	Required bool     `json:"required"`
}

type schemaIndex struct {
	byName map[string]int
	codes  []map[string]int  // per feature: level -> code (categorical only)
	nums   []map[float64]int // per feature: numeric level value -> code

	encOnce sync.Once
	enc     *Encoder // without a profile, for EncodeRow
}

func (x *schemaIndex) encoder(s *Schema) *Encoder {
	x.encOnce.Do(func() { x.enc, _ = NewEncoder(s, nil) })
	return x.enc
}

// Schema returns the table's schema, every feature required.
func (t *Table) Schema() *Schema {
	s := &Schema{Label: t.LabelCol, Positive: t.Positive, Features: make([]Feature, len(t.Columns))}
	for i, c := range t.Columns {
		s.Features[i] = Feature{Name: c.Name, Type: c.Kind, Levels: slices.Clone(c.Levels), Required: true}
	}
	s.idx, _ = s.index()
	return s
}

// ParseSchema reads a schema's JSON form and checks it: unique feature
// names, known types, unique levels.
func ParseSchema(b []byte) (*Schema, error) {
	var s Schema
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	idx, err := s.index()
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	s.idx = idx
	return &s, nil
}

// WriteJSON writes the schema's JSON form as saved in the model directory:
// indented, without HTML escaping (so "<" stays readable), ending in a
// newline.
func (s *Schema) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	c := *s
	if c.Features == nil {
		c.Features = []Feature{} // "features": [] rather than null
	}
	if err := enc.Encode(&c); err != nil {
		return fmt.Errorf("write schema: %w", err)
	}
	return nil
}

// Names returns the feature names in order.
func (s *Schema) Names() []string {
	out := make([]string, len(s.Features))
	for i, f := range s.Features {
		out[i] = f.Name
	}
	return out
}

// index validates the schema and builds its lookups.
func (s *Schema) index() (*schemaIndex, error) {
	x := &schemaIndex{byName: make(map[string]int, len(s.Features)),
		codes: make([]map[string]int, len(s.Features)), nums: make([]map[float64]int, len(s.Features))}
	for i, f := range s.Features {
		if f.Name == "" {
			return nil, fmt.Errorf("feature %d has no name", i)
		}
		if _, dup := x.byName[f.Name]; dup {
			return nil, fmt.Errorf("feature %q: %w", f.Name, ErrDuplicateColumn)
		}
		x.byName[f.Name] = i
		switch f.Type {
		case Numeric:
			if len(f.Levels) > 0 {
				return nil, fmt.Errorf("feature %q: a numeric feature has no levels", f.Name)
			}
		case Categorical:
			x.codes[i] = make(map[string]int, len(f.Levels))
			x.nums[i] = map[float64]int{}
			for code, l := range f.Levels {
				if _, dup := x.codes[i][l]; dup {
					return nil, fmt.Errorf("feature %q: level %q given twice", f.Name, l)
				}
				x.codes[i][l] = code
				if v, ok := parseNumber(l); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
					if _, dup := x.nums[i][v]; !dup {
						x.nums[i][v] = code
					}
				}
			}
		default:
			return nil, fmt.Errorf("feature %q: type %v is not numeric or categorical", f.Name, f.Type)
		}
	}
	return x, nil
}

func (s *Schema) lookups() (*schemaIndex, error) {
	if s.idx != nil {
		return s.idx, nil
	}
	return s.index() // a Schema built by hand: slower, still correct
}

// EncodeRow turns one request row, as decoded from JSON (numbers as float64
// or json.Number, strings, null), into a feature vector in schema order,
// by the rules of [Encoder] (without a reference profile, so without range
// checks). A category not seen in training is encoded as missing and its
// feature name returned in unseen. An absent required feature, a field not
// in the schema, or a value the encoder refuses is an error: a *RowError
// listing every bad field as a *FieldError.
func (s *Schema) EncodeRow(row map[string]any) (x []float64, unseen []string, err error) {
	idx, err := s.lookups()
	if err != nil {
		return nil, nil, fmt.Errorf("encode row: invalid schema: %w", err)
	}
	e := idx.encoder(s)
	x = make([]float64, len(s.Features))
	var bad []*FieldError
	present := 0
	for i, f := range s.Features {
		v, ok := row[f.Name]
		if !ok {
			x[i] = math.NaN()
			if f.Required {
				bad = append(bad, &FieldError{Field: f.Name, Msg: "missing required feature", Kind: ErrMissingFeature})
			}
			continue
		}
		present++
		val, note := e.Value(i, v)
		if note.Refusal() {
			bad = append(bad, &FieldError{Field: f.Name, Msg: e.Message(i, note, Describe(v)), Kind: note.Err()})
			continue
		}
		x[i] = val
		if note == NoteUnseen {
			unseen = append(unseen, f.Name)
		}
	}
	if len(row) > present {
		var unknown []string
		for k := range row {
			if _, ok := idx.byName[k]; !ok {
				unknown = append(unknown, k)
			}
		}
		slices.Sort(unknown)
		for _, k := range unknown {
			bad = append(bad, &FieldError{Field: k, Msg: "unknown feature", Kind: ErrUnknownFeature})
		}
	}
	if len(bad) > 0 {
		return nil, nil, &RowError{Fields: bad}
	}
	return x, unseen, nil
}

// Value encodes a Go value for feature i: nil is missing, the numeric
// types (json.Number included) are numbers, a string is a JSON string;
// anything else is the wrong type.
func (e *Encoder) Value(i int, v any) (float64, Note) {
	if v == nil {
		return e.Null(i)
	}
	if s, ok := v.(string); ok {
		return e.String(i, s)
	}
	num, isNum, err := number(v)
	if err != nil || !isNum {
		return 0, NoteWrongType
	}
	return e.Number(i, num)
}

// Describe renders a Go value for a message: strings quoted and cut (see
// [Quote]), numbers as numbers, other types by name.
func Describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "the string " + Quote(v)
	case json.Number:
		if _, ok, err := number(v); ok && err == nil {
			return string(v)
		}
		return "the malformed number " + Quote(string(v))
	}
	if n, ok, _ := number(v); ok {
		return strconv.FormatFloat(n, 'g', -1, 64)
	}
	return typeName(v)
}

// number converts the numeric types a JSON decoder (or a Go caller) may
// produce. isNum is false for other types; err is set for a malformed
// json.Number.
func number(v any) (f float64, isNum bool, err error) {
	switch n := v.(type) {
	case float64:
		return n, true, nil
	case float32:
		return float64(n), true, nil
	case int:
		return float64(n), true, nil
	case int8:
		return float64(n), true, nil
	case int16:
		return float64(n), true, nil
	case int32:
		return float64(n), true, nil
	case int64:
		return float64(n), true, nil
	case uint:
		return float64(n), true, nil
	case uint8:
		return float64(n), true, nil
	case uint16:
		return float64(n), true, nil
	case uint32:
		return float64(n), true, nil
	case uint64:
		return float64(n), true, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil && !isRangeErr(err) {
			return 0, false, fmt.Errorf("malformed number %q", string(n))
		}
		return f, true, nil
	}
	return 0, false, nil
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}

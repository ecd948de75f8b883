package data_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/creditrisk/engine/data"
)

// FuzzLoad checks that Load never panics, that every failure is a
// *data.Error, and that what it loads is consistent with the schema, the
// batch encoder and the other consumers. Seeds: testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("a,b,y\n1,x,1\n2,y,0\n"), "")
	f.Add([]byte("\xef\xbb\xbfid,v,y\r\n1,\"q, r\",1\r\n2,NA,0\r\n"), "id=ignore")
	f.Fuzz(func(t *testing.T, in []byte, types string) {
		opts := data.Options{Name: "fuzz.csv", Label: "y", Positive: "1"}
		if types != "" {
			var err error
			if opts.Types, err = data.ParseTypes([]string{types}); err != nil {
				return
			}
		}
		tab, err := data.Load(bytes.NewReader(in), opts)
		if err != nil {
			var de *data.Error
			if !errors.As(err, &de) || de.File != "fuzz.csv" || de.Msg == "" {
				t.Fatalf("error %v (%T) is not a *data.Error naming the file", err, err)
			}
			return
		}
		checkTable(t, tab)

		s := tab.Schema()
		var js bytes.Buffer
		if err := s.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		back, err := data.ParseSchema(js.Bytes())
		if err != nil {
			t.Fatalf("schema does not parse back: %v\n%s", err, js.Bytes())
		}
		// Scoring the training file itself by its schema gives the
		// training matrix.
		b, err := back.LoadBatch(bytes.NewReader(in), "fuzz.csv")
		if err != nil {
			t.Fatalf("LoadBatch of a loadable file: %v", err)
		}
		m := tab.Matrix(nil)
		if b.Rows() != len(m) || len(b.Unseen) != 0 {
			t.Fatalf("batch has %d rows, unseen %v; table %d rows", b.Rows(), b.Unseen, len(m))
		}
		for i := range m {
			if !sameFloats(b.X[i], m[i]) {
				t.Fatalf("row %d: batch %v, table %v", i, b.X[i], m[i])
			}
			row := tab.Record(i)
			if _, err := json.Marshal(row); err != nil {
				t.Fatalf("row %d: record does not marshal: %v", i, err)
			}
			x, unseen, err := back.EncodeRow(row)
			if err != nil || len(unseen) > 0 || !sameFloats(x, m[i]) {
				t.Fatalf("row %d: EncodeRow = %v, %q, %v; want %v", i, x, unseen, err, m[i])
			}
		}
		if d := tab.Digest(); len(d) != 64 || data.ShortDigest(d) != d[:8] {
			t.Fatalf("digest %q", d)
		}
		if !json.Valid([]byte(tab.MLflowSchema())) || !json.Valid([]byte(tab.MLflowProfile())) {
			t.Fatal("invalid MLflow schema or profile JSON")
		}
		if _, err := json.Marshal(data.NewProfile(tab)); err != nil {
			t.Fatalf("profile: %v", err)
		}
		if s, err := tab.Split(data.DefaultFractions(), 1); err == nil {
			n := len(s.Train) + len(s.Validation) + len(s.Test)
			if n != tab.Rows() {
				t.Fatalf("split covers %d of %d rows", n, tab.Rows())
			}
		}
	})
}

func checkTable(t *testing.T, tab *data.Table) {
	t.Helper()
	n := tab.Rows()
	if n == 0 || len(tab.Lines) != n || tab.Positive == tab.Negative {
		t.Fatalf("%d rows, %d lines, classes %q %q", n, len(tab.Lines), tab.Positive, tab.Negative)
	}
	var pos int
	for _, y := range tab.Label {
		if y != 0 && y != 1 {
			t.Fatalf("label value %v", y)
		}
		pos += int(y)
	}
	if pos == 0 || pos == n {
		t.Fatalf("%d positives of %d rows", pos, n)
	}
	names := map[string]bool{tab.LabelCol: true}
	for _, c := range tab.Columns {
		if names[c.Name] {
			t.Fatalf("column %q twice", c.Name)
		}
		names[c.Name] = true
		if len(c.Values) != n {
			t.Fatalf("column %q has %d values for %d rows", c.Name, len(c.Values), n)
		}
		switch c.Kind {
		case data.Numeric:
			if len(c.Levels) > 0 {
				t.Fatalf("numeric column %q has levels", c.Name)
			}
			for _, v := range c.Values {
				if math.IsInf(v, 0) {
					t.Fatalf("column %q holds %v", c.Name, v)
				}
			}
		case data.Categorical:
			seen := make([]bool, len(c.Levels))
			for _, v := range c.Values {
				if math.IsNaN(v) {
					continue
				}
				if v != math.Trunc(v) || v < 0 || int(v) >= len(c.Levels) {
					t.Fatalf("column %q holds code %v with %d levels", c.Name, v, len(c.Levels))
				}
				seen[int(v)] = true
			}
			if slices.Contains(seen, false) {
				t.Fatalf("column %q has a level no row uses: %q", c.Name, c.Levels)
			}
		default:
			t.Fatalf("column %q has kind %v", c.Name, c.Kind)
		}
	}
}

// FuzzEncodeRow checks that EncodeRow never panics on any JSON object and
// reports every failure as a *RowError of known kinds. Seeds:
// testdata/fuzz/FuzzEncodeRow.
func FuzzEncodeRow(f *testing.F) {
	f.Add([]byte(`{"age":30,"housing":"own","n":"10","opt":1.5}`), false)
	f.Add([]byte(`{"age":"x","housing":true,"zz":null}`), true)
	s := testSchema()
	kinds := []error{data.ErrMissingFeature, data.ErrUnknownFeature, data.ErrWrongType, data.ErrNotFinite}
	f.Fuzz(func(t *testing.T, in []byte, useNumber bool) {
		dec := json.NewDecoder(bytes.NewReader(in))
		if useNumber {
			dec.UseNumber()
		}
		var row map[string]any
		if dec.Decode(&row) != nil {
			return
		}
		x, unseen, err := s.EncodeRow(row)
		if err != nil {
			var re *data.RowError
			if !errors.As(err, &re) || len(re.Fields) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty *RowError", err, err)
			}
			for _, fe := range re.Fields {
				_, inRow := row[fe.Field]
				inSchema := slices.ContainsFunc(s.Features, func(f data.Feature) bool { return f.Name == fe.Field })
				if !inRow && !inSchema || !slices.ContainsFunc(kinds, func(k error) bool { return errors.Is(fe, k) }) {
					t.Fatalf("field error %v has an unknown kind or no field", fe)
				}
			}
			return
		}
		if len(x) != len(s.Features) {
			t.Fatalf("%d values for %d features", len(x), len(s.Features))
		}
		for i, f := range s.Features {
			v := x[i]
			if math.IsInf(v, 0) {
				t.Fatalf("%s = %v", f.Name, v)
			}
			if f.Type == data.Categorical && !math.IsNaN(v) && (v != math.Trunc(v) || v < 0 || int(v) >= len(f.Levels)) {
				t.Fatalf("%s: code %v", f.Name, v)
			}
			if _, ok := row[f.Name]; !ok && !math.IsNaN(v) {
				t.Fatalf("absent %s encoded as %v", f.Name, v)
			}
		}
		for _, u := range unseen {
			if i := slices.IndexFunc(s.Features, func(f data.Feature) bool { return f.Name == u }); i < 0 || s.Features[i].Type != data.Categorical || !math.IsNaN(x[i]) {
				t.Fatalf("unseen %q is not a categorical feature encoded as missing", u)
			}
		}
	})
}

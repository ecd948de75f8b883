package data_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
)

func sameFloats(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) })
}

func TestSchemaJSON(t *testing.T) {
	s := testkit.German(t).Schema()
	var buf bytes.Buffer
	if err := s.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	testkit.Golden(t, "german_schema.json", b)
	back, err := data.ParseSchema(b)
	if err != nil {
		t.Fatal(err)
	}
	var b2 bytes.Buffer
	if err := back.WriteJSON(&b2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2.Bytes()) {
		t.Errorf("schema does not survive a JSON round trip:\n%s", b2.Bytes())
	}
	if len(back.Features) != 20 || back.Label != "creditability" || back.Positive != "bad" {
		t.Errorf("parsed %d features, label %q positive %q", len(back.Features), back.Label, back.Positive)
	}
}

func TestParseSchemaErrors(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"malformed", `{"features":[`, "unexpected end"},
		{"bad type", `{"features":[{"name":"a","type":"text"}]}`, `unknown column type "text"`},
		{"ignore type", `{"features":[{"name":"a","type":"ignore"}]}`, "not numeric or categorical"},
		{"no type", `{"features":[{"name":"a"}]}`, "not numeric or categorical"},
		{"no name", `{"features":[{"type":"numeric"}]}`, "feature 0 has no name"},
		{"duplicate", `{"features":[{"name":"a","type":"numeric"},{"name":"a","type":"numeric"}]}`, "duplicate column name"},
		{"numeric levels", `{"features":[{"name":"a","type":"numeric","levels":["x"]}]}`, "numeric feature has no levels"},
		{"duplicate level", `{"features":[{"name":"a","type":"categorical","levels":["x","x"]}]}`, `level "x" given twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := data.ParseSchema([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func testSchema() *data.Schema {
	s, err := data.ParseSchema([]byte(`{"features":[
		{"name":"age","type":"numeric","required":true},
		{"name":"housing","type":"categorical","levels":["free","own","rent"],"required":true},
		{"name":"n","type":"categorical","levels":["1","2","10"],"required":true},
		{"name":"opt","type":"numeric","required":false}],
		"label":"y","positive":"bad"}`))
	if err != nil {
		panic(err)
	}
	return s
}

func TestEncodeRow(t *testing.T) {
	nan := math.NaN()
	s := testSchema()
	for _, tc := range []struct {
		name   string
		row    string
		want   []float64
		unseen []string
	}{
		{"all present", `{"age":30,"housing":"own","n":"10","opt":1.5}`, []float64{30, 1, 2, 1.5}, nil},
		{"optional absent", `{"age":30,"housing":"rent","n":"1"}`, []float64{30, 2, 0, nan}, nil},
		{"nulls are missing", `{"age":null,"housing":null,"n":null,"opt":null}`, []float64{nan, nan, nan, nan}, nil},
		{"missing strings", `{"age":1,"housing":"NA","n":"","opt":2}`, []float64{1, nan, nan, 2}, nil},
		{"numeric level as text", `{"age":1,"housing":" free ","n":"2","opt":2}`, []float64{1, 0, 1, 2}, nil},
		{"numeric string level", `{"age":1,"housing":"free","n":"2.0"}`, []float64{1, 0, 1, nan}, nil},
		{"category code", `{"age":1,"housing":2,"n":"10"}`, []float64{1, 2, 2, nan}, nil},
		{"category code as text", `{"age":1,"housing":"0","n":"10"}`, []float64{1, 0, 2, nan}, nil},
		{"unseen", `{"age":1,"housing":"castle","n":"7"}`, []float64{1, nan, nan, nan}, []string{"housing", "n"}},
		{"code out of range", `{"age":1,"housing":3,"n":"1"}`, []float64{1, nan, 0, nan}, []string{"housing"}},
		{"big number", `{"age":1e308,"housing":"own","n":"1"}`, []float64{1e308, 1, 0, nan}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, useNumber := range []bool{false, true} {
				row := decodeRow(t, tc.row, useNumber)
				x, unseen, err := s.EncodeRow(row)
				if err != nil {
					t.Fatal(err)
				}
				if !sameFloats(x, tc.want) || !slices.Equal(unseen, tc.unseen) {
					t.Errorf("UseNumber=%v: got %v unseen %q, want %v unseen %q", useNumber, x, unseen, tc.want, tc.unseen)
				}
			}
		})
	}
}

func decodeRow(t testing.TB, s string, useNumber bool) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	if useNumber {
		dec.UseNumber()
	}
	var row map[string]any
	if err := dec.Decode(&row); err != nil {
		t.Fatal(err)
	}
	return row
}

func TestEncodeRowErrors(t *testing.T) {
	s := testSchema()
	var report strings.Builder
	for _, tc := range []struct {
		name  string
		row   map[string]any
		kinds []error
	}{
		{"missing required", map[string]any{"housing": "own", "n": "1"}, []error{data.ErrMissingFeature}},
		{"unknown", map[string]any{"age": 1, "housing": "own", "n": "1", "agee": 2, "Age": 3}, []error{data.ErrUnknownFeature, data.ErrUnknownFeature}},
		{"string for numeric", map[string]any{"age": "30", "housing": "own", "n": "1"}, []error{data.ErrWrongType}},
		{"bool for categorical", map[string]any{"age": 1, "housing": true, "n": "1"}, []error{data.ErrWrongType}},
		{"object", map[string]any{"age": map[string]any{}, "housing": []any{"own"}, "n": "1"}, []error{data.ErrWrongType, data.ErrWrongType}},
		{"NaN", map[string]any{"age": math.NaN(), "housing": "own", "n": "1"}, []error{data.ErrNotFinite}},
		{"Inf categorical", map[string]any{"age": 1, "housing": "own", "n": math.Inf(1)}, []error{data.ErrNotFinite}},
		{"number for numeric levels", map[string]any{"age": 1, "housing": "own", "n": 2}, []error{data.ErrWrongType}},
		{"fractional code", map[string]any{"age": 1, "housing": 0.5, "n": "1"}, []error{data.ErrWrongType}},
		{"malformed json.Number", map[string]any{"age": json.Number("1x"), "housing": "own", "n": "1"}, []error{data.ErrWrongType}},
		{"everything at once", map[string]any{"housing": 1.5, "n": false, "zzz": nil}, []error{data.ErrMissingFeature, data.ErrUnknownFeature, data.ErrWrongType}},
		{"empty row", map[string]any{}, []error{data.ErrMissingFeature}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, _, err := s.EncodeRow(tc.row)
			if err == nil {
				t.Fatalf("EncodeRow = %v, want an error", x)
			}
			var re *data.RowError
			var fe *data.FieldError
			if !errors.As(err, &re) || !errors.As(err, &fe) || fe != re.Fields[0] {
				t.Fatalf("error %v is not a *RowError whose first *FieldError errors.As finds", err)
			}
			for _, k := range tc.kinds {
				if !errors.Is(err, k) {
					t.Errorf("error %q is not %v", err, k)
				}
			}
			fmt.Fprintf(&report, "%s: %v\n", tc.name, err)
		})
	}
	testkit.Golden(t, "encode_errors.golden", []byte(report.String()))
}

// Encoding each German row from its raw values gives the loaded row, so
// serve sees the same codes the trainer saw.
func TestEncodeRowMatchesTable(t *testing.T) {
	tab := testkit.German(t)
	s := tab.Schema()
	for i := range tab.Rows() {
		row := tab.Record(i)
		x, unseen, err := s.EncodeRow(row)
		if err != nil || len(unseen) > 0 {
			t.Fatalf("row %d: %v, unseen %q", i, err, unseen)
		}
		if want := tab.Row(i, nil); !sameFloats(x, want) {
			t.Fatalf("row %d: %v, want %v", i, x, want)
		}
	}
}

func TestHandBuiltSchema(t *testing.T) {
	s := &data.Schema{Features: []data.Feature{{Name: "a", Type: data.Categorical, Levels: []string{"x", "y"}, Required: true}}}
	x, _, err := s.EncodeRow(map[string]any{"a": "y"})
	if err != nil || x[0] != 1 {
		t.Fatalf("got %v, %v", x, err)
	}
	bad := &data.Schema{Features: []data.Feature{{Name: "a"}}}
	if _, _, err := bad.EncodeRow(map[string]any{"a": 1}); err == nil {
		t.Fatal("a schema with an untyped feature encoded a row")
	}
}

func TestLoadBatchGerman(t *testing.T) {
	tab := testkit.German(t)
	s := tab.Schema()
	b, err := s.LoadBatch(strings.NewReader(string(data.DefaultCSV())), "german.csv")
	if err != nil {
		t.Fatal(err)
	}
	if b.Rows() != 1000 || !slices.Equal(b.Extra, []string{"creditability"}) || len(b.Unseen) != 0 {
		t.Fatalf("%d rows, extra %q, unseen %v", b.Rows(), b.Extra, b.Unseen)
	}
	m := tab.Matrix(nil)
	for i := range m {
		if !sameFloats(b.X[i], m[i]) {
			t.Fatalf("row %d: %v, want %v", i, b.X[i], m[i])
		}
		if want := []string{map[float64]string{0: "good", 1: "bad"}[tab.Label[i]]}; !slices.Equal(b.ExtraValues[i], want) {
			t.Fatalf("row %d passes through %q, want %q", i, b.ExtraValues[i], want)
		}
	}
}

func TestLoadBatch(t *testing.T) {
	nan := math.NaN()
	s := testSchema()
	in := "id,n,housing,age,note\r\n" +
		"7,10,own,30,\"a, b\"\r\n" +
		"8,2.0,castle,NA,x\r\n" +
		"9,3,,1e3,y\r\n"
	b, err := s.LoadBatch(strings.NewReader(in), "new.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{30, 1, 2, nan}, {nan, nan, 1, nan}, {1000, nan, nan, nan}}
	for i := range want {
		if !sameFloats(b.X[i], want[i]) {
			t.Errorf("row %d: %v, want %v", i, b.X[i], want[i])
		}
	}
	if !slices.Equal(b.Extra, []string{"id", "note"}) || !slices.Equal(b.ExtraValues[0], []string{"7", "a, b"}) {
		t.Errorf("extra %q values %q", b.Extra, b.ExtraValues)
	}
	if b.Unseen["housing"] != 1 || b.Unseen["n"] != 1 || len(b.Unseen) != 2 {
		t.Errorf("unseen %v", b.Unseen)
	}
	if !slices.Equal(b.Lines, []int{2, 3, 4}) {
		t.Errorf("lines %v", b.Lines)
	}

	empty, err := s.LoadBatch(strings.NewReader("age,housing,n\n"), "h.csv")
	if err != nil || empty.Rows() != 0 {
		t.Errorf("header-only batch: %v rows, %v", empty.Rows(), err)
	}
}

func TestLoadBatchErrors(t *testing.T) {
	s := testSchema()
	var report strings.Builder
	for _, tc := range []struct {
		name, csv string
		kind      error
		line      int
		col       string
	}{
		{"missing columns", "age,id\n1,2\n", data.ErrMissingFeature, 1, "housing"},
		{"not a number", "age,housing,n\n1,own,1\nold,own,1\n", data.ErrNotNumber, 3, "age"},
		{"infinite", "age,housing,n\ninf,own,1\n", data.ErrNotFinite, 2, "age"},
		{"ragged", "age,housing,n\n1,own\n", data.ErrFieldCount, 2, ""},
		{"empty", "", data.ErrEmpty, 0, ""},
		{"duplicate column", "age,age,housing,n\n", data.ErrDuplicateColumn, 1, "age"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.LoadBatch(strings.NewReader(tc.csv), "new.csv")
			var de *data.Error
			if !errors.As(err, &de) || !errors.Is(err, tc.kind) {
				t.Fatalf("got %v, want a *data.Error of kind %v", err, tc.kind)
			}
			if de.Line != tc.line || de.Column != tc.col {
				t.Errorf("line %d column %q, want %d %q", de.Line, de.Column, tc.line, tc.col)
			}
			fmt.Fprintf(&report, "%s: %v\n", tc.name, err)
		})
	}
	testkit.Golden(t, "batch_errors.golden", []byte(report.String()))
}

func TestParseTypes(t *testing.T) {
	got, err := data.ParseTypes([]string{"ID=ignore", "a=b=Categorical", " x =numeric"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]data.Kind{"ID": data.Ignore, "a=b": data.Categorical, "x": data.Numeric}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v", got)
	}
	for _, bad := range [][]string{{"ID"}, {"=ignore"}, {"ID=text"}, {"a=numeric", "a=ignore"}} {
		if _, err := data.ParseTypes(bad); err == nil {
			t.Errorf("ParseTypes(%q) succeeded", bad)
		}
	}
	for _, k := range []data.Kind{data.Numeric, data.Categorical, data.Ignore} {
		b, err := k.MarshalText()
		var back data.Kind
		if err != nil || back.UnmarshalText(b) != nil || back != k {
			t.Errorf("kind %v: %s %v", k, b, err)
		}
	}
	if _, err := data.Kind(0).MarshalText(); err == nil {
		t.Error("the zero kind marshalled")
	}
	_ = strconv.Itoa
}

func BenchmarkEncodeRow(b *testing.B) {
	tab := testkit.German(b)
	s := tab.Schema()
	row := tab.Record(7)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.EncodeRow(row); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadBatchGerman(b *testing.B) {
	tab := testkit.German(b)
	s := tab.Schema()
	raw := data.DefaultCSV()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.LoadBatch(bytes.NewReader(raw), "german.csv"); err != nil {
			b.Fatal(err)
		}
	}
}

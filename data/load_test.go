package data_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
)

func opts(types ...string) data.Options {
	o := data.Options{Name: "in.csv", Label: "y", Positive: "bad"}
	if len(types) > 0 {
		var err error
		if o.Types, err = data.ParseTypes(types); err != nil {
			panic(err)
		}
	}
	return o
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name string
		csv  string
		opts data.Options
		kind error
		line int
		col  string
	}{
		{"empty file", "", opts(), data.ErrEmpty, 0, ""},
		{"blank lines only", "\r\n\n", opts(), data.ErrEmpty, 0, ""},
		{"header only", "a,y\r\n", opts(), data.ErrEmpty, 0, ""},
		{"ragged short", "a,b,y\n1,2,bad\n3,good\n", opts(), data.ErrFieldCount, 3, ""},
		{"ragged long", "a,y\n1,bad\n3,good,x\n", opts(), data.ErrFieldCount, 3, ""},
		{"ragged after quoted newline", "a,y\n\"multi\nline\",bad\n1\n", opts(), data.ErrFieldCount, 4, ""},
		{"bare quote", "a,y\n1,b\"ad\n", opts(), data.ErrSyntax, 2, ""},
		{"unterminated quote", "a,y\n\"1,bad\n", opts(), data.ErrSyntax, 2, ""},
		{"forced numeric", "a,y\n1,bad\nx,good\n", opts("a=numeric"), data.ErrNotNumber, 3, "a"},
		{"infinite value", "a,y\n1,bad\n-Inf,good\n", opts(), data.ErrNotFinite, 3, "a"},
		{"infinite value forced numeric", "a,y\n1,bad\ninf,good\n", opts("a=numeric"), data.ErrNotFinite, 3, "a"},
		{"hex forced numeric", "a,y\n1,bad\n0x1p3,good\n", opts("a=numeric"), data.ErrNotNumber, 3, "a"},
		{"digit separator forced numeric", "a,y\n1,bad\n1_000,good\n", opts("a=numeric"), data.ErrNotNumber, 3, "a"},
		{"overflowing value", "a,y\n1,bad\n1e999,good\n", opts(), data.ErrNotFinite, 3, "a"},
		{"no label column", "a,b\n1,2\n", opts(), data.ErrNoLabel, 1, "y"},
		{"label three values", "a,y\n1,bad\n2,good\n3,ok\n", opts(), data.ErrLabelValues, 0, "y"},
		{"label one value", "a,y\n1,bad\n2,bad\n", opts(), data.ErrLabelValues, 0, "y"},
		{"positive never seen", "a,y\n1,0\n2,1\n", opts(), data.ErrNoPositive, 0, "y"},
		{"positive never seen many", "a,y\n1,1\n2,2\n3,3\n4,4\n5,5\n6,6\n7,7\n8,8\n9,9\n10,10\n11,11\n12,12\n13,13\n14,14\n15,15\n16,16\n17,17\n18,18\n19,19\n20,20\n21,21\n22,22\n", opts(), data.ErrNoPositive, 0, "y"},
		{"duplicate column", "a,y,a\n1,bad,2\n", opts(), data.ErrDuplicateColumn, 1, "a"},
		{"duplicate after trim", "a, a ,y\n1,2,bad\n", opts(), data.ErrDuplicateColumn, 1, "a"},
		{"empty column name", "a,,y\n1,2,bad\n", opts(), data.ErrSyntax, 1, ""},
		{"invalid UTF-8 header", "a\xff,y\n1,bad\n", opts(), data.ErrSyntax, 1, "a\uFFFD"},
		{"invalid UTF-8 value", "a,y\nok,bad\nb\xffd,good\n", opts(), data.ErrSyntax, 3, "a"},
		{"missing label value", "a,y\n1,bad\n2,\n", opts(), data.ErrMissingLabel, 3, "y"},
		{"NA label value", "a,y\n1,bad\n2,good\n3,NA\n", opts(), data.ErrMissingLabel, 4, "y"},
		{"type for unknown column", "a,y\n1,bad\n", opts("b=ignore"), data.ErrUnknownColumn, 1, "b"},
		{"type for label", "a,y\n1,bad\n", opts("y=categorical"), data.ErrOptions, 1, "y"},
		{"no label option", "a,y\n1,bad\n", data.Options{Name: "in.csv", Positive: "bad"}, data.ErrOptions, 0, ""},
		{"no positive option", "a,y\n1,bad\n", data.Options{Name: "in.csv", Label: "y"}, data.ErrOptions, 0, ""},
	}
	var report strings.Builder
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := data.Load(strings.NewReader(tc.csv), tc.opts)
			if err == nil {
				t.Fatalf("Load succeeded with %d rows, want an error", tab.Rows())
			}
			var de *data.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *data.Error", err, err)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %q is not %v", err, tc.kind)
			}
			if de.File != "in.csv" || de.Line != tc.line || de.Column != tc.col {
				t.Errorf("error at file %q line %d column %q, want in.csv line %d column %q", de.File, de.Line, de.Column, tc.line, tc.col)
			}
			fmt.Fprintf(&report, "%s: %v\n", tc.name, err)
		})
	}
	testkit.Golden(t, "load_errors.golden", []byte(report.String()))
}

func TestLoadReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := data.Load(&failingReader{data: "a,y\n1,bad\n", err: boom}, opts())
	var de *data.Error
	if !errors.As(err, &de) || !errors.Is(err, boom) {
		t.Fatalf("got %v, want a *data.Error wrapping the read error", err)
	}
}

type failingReader struct {
	data string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestLoadFileMissing(t *testing.T) {
	_, err := data.LoadFile(filepath.Join(t.TempDir(), "nope.csv"), opts())
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want not-exist", err)
	}
}

func isNaN(v float64) bool { return math.IsNaN(v) }

func TestLoadTypes(t *testing.T) {
	in := "\xef\xbb\xbfid, num ,cat,mixed,numcat,y\r\n" +
		"1,1.5,b,1,10,bad\r\n" +
		"2,NA,\"a, quoted\",2,2,good\r\n" +
		"3, nan ,null,,1,good\r\n" +
		"4,-2e3,  b ,x,2,bad\r\n" +
		"5,Null,NaN,3,,good\r\n"
	tab, err := data.Load(strings.NewReader(in), opts("id=ignore", "numcat=categorical"))
	if err != nil {
		t.Fatal(err)
	}
	if got := tab.FeatureNames(); !slices.Equal(got, []string{"num", "cat", "mixed", "numcat"}) {
		t.Fatalf("features %q", got)
	}
	if tab.Rows() != 5 || !slices.Equal(tab.Label, []float64{1, 0, 0, 1, 0}) || tab.Negative != "good" {
		t.Fatalf("label %v negative %q", tab.Label, tab.Negative)
	}
	if !slices.Equal(tab.Lines, []int{2, 3, 4, 5, 6}) {
		t.Errorf("lines %v", tab.Lines)
	}
	check := func(name string, kind data.Kind, levels []string, vals []float64) {
		t.Helper()
		c, ok := tab.Column(name)
		if !ok {
			t.Fatalf("no column %q", name)
		}
		if c.Kind != kind || !slices.Equal(c.Levels, levels) {
			t.Errorf("%s: kind %v levels %q, want %v %q", name, c.Kind, c.Levels, kind, levels)
		}
		if !slices.EqualFunc(c.Values, vals, func(a, b float64) bool { return a == b || isNaN(a) && isNaN(b) }) {
			t.Errorf("%s: values %v, want %v", name, c.Values, vals)
		}
	}
	nan := math.NaN()
	check("num", data.Numeric, nil, []float64{1.5, nan, nan, -2000, nan})
	check("cat", data.Categorical, []string{"a, quoted", "b"}, []float64{1, 0, nan, 1, nan})
	// One non-number anywhere in the file makes the column categorical.
	check("mixed", data.Categorical, []string{"1", "2", "3", "x"}, []float64{0, 1, nan, 3, 2})
	// Numeric levels sort by value, so "10" comes after "2".
	check("numcat", data.Categorical, []string{"1", "2", "10"}, []float64{2, 1, 0, 1, nan})
}

// A column is typed from the whole file: an infinite value is an error
// only when the column is numeric, and a later non-number makes it
// categorical.
func TestInfInCategoricalColumn(t *testing.T) {
	tab, err := data.Load(strings.NewReader("a,b,y\ninf,0x10,bad\nabc,1_0,good\n"), opts())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]string{{"abc", "inf"}, {"0x10", "1_0"}} {
		if c := tab.Columns[i]; c.Kind != data.Categorical || !slices.Equal(c.Levels, want) {
			t.Errorf("%s: %v %q, want categorical %q", c.Name, c.Kind, c.Levels, want)
		}
	}
}

func TestLevelsIndependentOfRowOrder(t *testing.T) {
	rows := []string{"x,bad", "a,good", "m,bad", "B,good", "a,bad"}
	var first []string
	for i := range rows {
		rot := append(slices.Clone(rows[i:]), rows[:i]...)
		tab, err := data.Load(strings.NewReader("c,y\n"+strings.Join(rot, "\n")), opts())
		if err != nil {
			t.Fatal(err)
		}
		c := tab.Columns[0]
		if first == nil {
			first = c.Levels
		} else if !slices.Equal(first, c.Levels) {
			t.Fatalf("levels %q differ from %q", c.Levels, first)
		}
		for k, v := range c.Values {
			if c.Levels[int(v)] != strings.Split(rot[k], ",")[0] {
				t.Errorf("row %d: code %v -> %q, want %q", k, v, c.Levels[int(v)], rot[k])
			}
		}
	}
}

func TestGermanCredit(t *testing.T) {
	sum := sha256.Sum256(data.DefaultCSV())
	if got := hex.EncodeToString(sum[:]); got != "2c0bae00275c028fc853a1ea72cc7a68002c3f6876c41300c5c948711540c8c6" {
		t.Fatalf("embedded german_credit.csv sha256 %s differs from the shared copy's", got)
	}
	tab, err := data.Default()
	if err != nil {
		t.Fatal(err)
	}
	var num, cat int
	for _, c := range tab.Columns {
		switch c.Kind {
		case data.Numeric:
			num++
		case data.Categorical:
			cat++
		}
	}
	if tab.Rows() != 1000 || len(tab.Columns) != 20 || num != 7 || cat != 13 {
		t.Fatalf("%d rows, %d features (%d numeric, %d categorical)", tab.Rows(), len(tab.Columns), num, cat)
	}
	if r := tab.PositiveRate(); r != 0.3 {
		t.Errorf("positive rate %v", r)
	}
	if tab.LabelCol != "creditability" || tab.Positive != "bad" || tab.Negative != "good" {
		t.Errorf("label %q positive %q negative %q", tab.LabelCol, tab.Positive, tab.Negative)
	}
	// The first data row: "... < 0 DM,6,critical account/ ...,1169,...,yes,good".
	row := tab.Row(0, nil)
	amount, _ := tab.Column("credit_amount")
	phone, _ := tab.Column("telephone")
	if row[1] != 6 || amount.Values[0] != 1169 || tab.Label[0] != 0 || tab.Label[1] != 1 {
		t.Errorf("row 0 = %v, label %v", row, tab.Label[:2])
	}
	// A quoted field with a comma survives intact.
	if !slices.Contains(phone.Levels, "yes, registered under the customers name") {
		t.Errorf("telephone levels %q", phone.Levels)
	}
	if tab.Lines[999] != 1001 {
		t.Errorf("last row on line %d", tab.Lines[999])
	}
}

func taiwanOptions(path string) data.Options {
	return data.Options{Name: path, Label: "default payment next month", Positive: "1",
		Types: map[string]data.Kind{"ID": data.Ignore}}
}

func TestTaiwanDefault(t *testing.T) {
	path := testkit.Path(t, "taiwan_default.csv")
	start := time.Now()
	tab, err := data.LoadFile(path, taiwanOptions(path))
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %s in %v", path, elapsed)
	if tab.Rows() != 30000 || len(tab.Columns) != 23 {
		t.Fatalf("%d rows, %d features", tab.Rows(), len(tab.Columns))
	}
	if _, ok := tab.Column("ID"); ok {
		t.Error("ID was not ignored")
	}
	for _, c := range tab.Columns {
		if c.Kind != data.Numeric {
			t.Errorf("column %s is %v", c.Name, c.Kind)
		}
	}
	if r := tab.PositiveRate(); math.Abs(r-0.2212) > 1e-9 {
		t.Errorf("positive rate %v", r)
	}
	limit, _ := tab.Column("LIMIT_BAL")
	if limit.Values[0] != 20000 || limit.Values[1] != 120000 {
		t.Errorf("LIMIT_BAL starts %v", limit.Values[:2])
	}
}

func BenchmarkLoadTaiwan(b *testing.B) {
	path := testkit.Path(b, "taiwan_default.csv")
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := data.Load(bytes.NewReader(raw), taiwanOptions(path)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadGerman(b *testing.B) {
	raw := data.DefaultCSV()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := data.Load(bytes.NewReader(raw), data.DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

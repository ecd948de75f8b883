package data_test

import (
	"bytes"
	"encoding/csv"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
)

func TestWriteCSVRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts data.Options
	}{
		{"german", string(data.DefaultCSV()), data.DefaultOptions()},
		{"missing values", "a,b,y\n1.5,x,yes\n,,no\n-2,\"q,r\",no\nNA,x,yes\n", data.Options{Label: "y", Positive: "yes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := data.Load(strings.NewReader(tt.in), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := want.WriteCSV(&buf); err != nil {
				t.Fatal(err)
			}
			got, err := data.Load(&buf, tt.opts)
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			if !reflect.DeepEqual(got.Label, want.Label) || len(got.Columns) != len(want.Columns) {
				t.Fatalf("labels or columns differ after the round trip")
			}
			for j := range want.Columns {
				w, g := want.Columns[j], got.Columns[j]
				if w.Name != g.Name || w.Kind != g.Kind || !reflect.DeepEqual(w.Levels, g.Levels) {
					t.Fatalf("column %d: got %s %v %v, want %s %v %v", j, g.Name, g.Kind, g.Levels, w.Name, w.Kind, w.Levels)
				}
				for i := range w.Values {
					if w.Values[i] != g.Values[i] && !(math.IsNaN(w.Values[i]) && math.IsNaN(g.Values[i])) {
						t.Fatalf("column %s row %d: got %v, want %v", w.Name, i, g.Values[i], w.Values[i])
					}
				}
			}
		})
	}
}

// TestWriteCSVAsEncodingCSV: the rows are written byte for byte as
// encoding/csv writes the values' FormatFloat and level strings.
func TestWriteCSVAsEncodingCSV(t *testing.T) {
	taiwan := testkit.Path(t, "taiwan_default.csv")
	tests := []struct {
		name string
		load func() (*data.Table, error)
	}{
		{"german", func() (*data.Table, error) {
			return data.Load(bytes.NewReader(data.DefaultCSV()), data.DefaultOptions())
		}},
		{"taiwan", func() (*data.Table, error) { return data.LoadFile(taiwan, taiwanOptions(taiwan)) }},
		{"quoting", func() (*data.Table, error) {
			in := "n,c,y\n-0,\" x\",\"y,es\"\n1e6,\"a \"\"b\"\"\",no\n0.1,\"two\nlines\",no\n,,no\n123456.5,\"\\.\",\"y,es\"\n"
			return data.Load(strings.NewReader(in), data.Options{Label: "y", Positive: "y,es"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := tt.load()
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			cw := csv.NewWriter(&want)
			cw.Write(append(tab.FeatureNames(), tab.LabelCol))
			for i, y := range tab.Label {
				var rec []string
				for _, c := range tab.Columns {
					switch v := c.Values[i]; {
					case math.IsNaN(v):
						rec = append(rec, "")
					case c.Kind == data.Categorical:
						rec = append(rec, c.Levels[int(v)])
					default:
						rec = append(rec, strconv.FormatFloat(v, 'g', -1, 64))
					}
				}
				rec = append(rec, map[float64]string{0: tab.Negative, 1: tab.Positive}[y])
				cw.Write(rec)
			}
			cw.Flush()
			var got bytes.Buffer
			if err := tab.WriteCSV(&got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				g, w := got.String(), want.String()
				i := 0
				for i < min(len(g), len(w)) && g[i] == w[i] {
					i++
				}
				t.Fatalf("differs at byte %d: got %q, want %q", i, g[max(i-40, 0):min(i+40, len(g))], w[max(i-40, 0):min(i+40, len(w))])
			}
		})
	}
}

func BenchmarkWriteCSVTaiwan(b *testing.B) {
	path := testkit.Path(b, "taiwan_default.csv")
	tab, err := data.LoadFile(path, taiwanOptions(path))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := tab.WriteCSV(&buf); err != nil {
			b.Fatal(err)
		}
	}
}

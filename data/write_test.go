package data_test

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
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

package gbdt

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
)

// FuzzReadText feeds arbitrary bytes to ReadText, seeded with real LightGBM
// files and our own output. A model it accepts must predict, explain and
// write without panicking, its flattened form must answer as it does, and
// what it writes must read back to the same bytes.
func FuzzReadText(f *testing.F) {
	paths, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seed files in testdata: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var hand bytes.Buffer
	if err := handModel().WriteText(&hand); err != nil {
		f.Fatal(err)
	}
	f.Add(hand.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadText(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("ReadText returned an invalid model: %v", err)
		}
		n := len(m.FeatureNames)
		flat := m.Flatten()
		if flat == nil {
			t.Fatal("a valid model did not flatten")
		}
		var rows [][]float64
		for _, fill := range []float64{math.NaN(), 0, 1, -1, 1e300, math.Inf(1)} {
			row := make([]float64, n)
			for i := range row {
				row[i] = fill
			}
			rows = append(rows, row)
			m.Contributions(row)
		}
		raw := make([]float64, len(rows))
		flat.PredictRaw(rows, raw)
		for i, row := range rows {
			if want := m.PredictRaw(row); math.Float64bits(raw[i]) != math.Float64bits(want) && !(math.IsNaN(raw[i]) && math.IsNaN(want)) {
				t.Fatalf("row %v: Flat %v, PredictRaw %v", row, raw[i], want)
			}
		}
		var out bytes.Buffer
		if err := m.WriteText(&out); err != nil {
			return // e.g. a feature name holding '=' that LightGBM tolerates
		}
		back, err := ReadText(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("our own output does not read back: %v\n%s", err, out.Bytes())
		}
		var again bytes.Buffer
		if err := back.WriteText(&again); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		if !bytes.Equal(out.Bytes(), again.Bytes()) {
			t.Fatalf("write(read(write)) differs:\n%s", testkit.FirstDiff(again.String(), out.String()))
		}
	})
}

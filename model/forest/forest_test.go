package forest

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/model/family"
)

func train(t testing.TB, params map[string]string) (*Model, *data.Table, [][]float64) {
	t.Helper()
	tab := testkit.German(t)
	rows := testkit.AllRows(tab)
	m, err := Train(context.Background(), tab, params)
	if err != nil {
		t.Fatal(err)
	}
	return m, tab, rows
}

// TestVotesMatchGolearn checks the compiled trees against golearn's own
// prediction of every tree, row by row.
func TestVotesMatchGolearn(t *testing.T) {
	m, _, rows := train(t, map[string]string{"num_trees": "15"})
	rows = rows[:300]
	labels := make([]float64, len(rows)) // class values are not used by Predict
	inst, err := m.instances(rows, labels)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, len(rows[0]))
	for ti, root := range m.roots {
		pred, err := (&trees.RandomTree{Root: root}).Predict(inst)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			for j, v := range r {
				if math.IsNaN(v) {
					v = m.meta.Impute[j]
				}
				x[j] = v
			}
			if got, want := m.flat[ti].vote(x), base.GetClass(pred, i) == positive; got != want {
				t.Fatalf("tree %d row %d: compiled vote %v, golearn %v", ti, i, got, want)
			}
		}
	}
}

func TestQualityAndDeterminism(t *testing.T) {
	m, tab, rows := train(t, map[string]string{"num_trees": "50", "seed": "3"})
	p, err := m.Predict(rows)
	if err != nil {
		t.Fatal(err)
	}
	if auc := testkit.AUC(tab.Label, p); auc < 0.8 {
		t.Errorf("training AUC %.3f, want a forest that learned something (>= 0.8)", auc)
	} else {
		t.Logf("training AUC %.3f", auc)
	}
	m2, _, _ := train(t, map[string]string{"num_trees": "50", "seed": "3", "num_threads": "1"})
	p2, _ := m2.Predict(rows)
	for i := range p {
		if p[i] != p2[i] {
			t.Fatalf("row %d: %v vs %v with the same seed", i, p[i], p2[i])
		}
	}
}

func TestSaveLoad(t *testing.T) {
	m, tab, rows := train(t, map[string]string{"num_trees": "20"})
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	l, err := Load(filepath.Join(dir, FileName), tab.Schema())
	if err != nil {
		t.Fatal(err)
	}
	rows[0] = append([]float64(nil), rows[0]...)
	rows[0][1], rows[0][0] = math.NaN(), math.NaN()
	a, _ := m.Predict(rows)
	b, _ := l.Predict(rows)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("row %d: %v after load, %v before", i, b[i], a[i])
		}
	}
	if l.Params()["num_trees"] != "20" || l.Params()["max_features"] != "4" {
		t.Fatalf("params %v", l.Params())
	}
	other := &data.Schema{Features: []data.Feature{{Name: "x", Type: data.Numeric}}}
	if _, err := Load(filepath.Join(dir, FileName), other); err == nil || !strings.Contains(err.Error(), "differ from the schema") {
		t.Fatalf("load with another schema: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	m, tab, _ := train(t, map[string]string{"num_trees": "3"})
	if _, err := m.Predict([][]float64{{1, 2}}); !errors.Is(err, family.ErrRowLength) {
		t.Errorf("short row: %v", err)
	}
	if _, _, err := m.Explain(make([]float64, 20)); !errors.Is(err, family.ErrNoExplain) {
		t.Errorf("Explain: %v", err)
	}
	for _, params := range []map[string]string{{"num_trees": "0"}, {"max_features": "x"}, {"depth": "3"}, {"min_samples_split": "1"}} {
		if _, err := Train(context.Background(), tab, params); !errors.Is(err, family.ErrParam) {
			t.Errorf("%v: %v, want ErrParam", params, err)
		}
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{"empty": nil, "text": []byte("not gzip"), "truncated": truncated(t, m)} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		if _, err := Load(p, tab.Schema()); err == nil {
			t.Errorf("Load(%s) accepted a bad file", name)
		}
	}
}

func truncated(t *testing.T, m *Model) []byte {
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	return b[:len(b)/2]
}

func FuzzLoad(f *testing.F) {
	tab, err := data.Default()
	if err != nil {
		f.Fatal(err)
	}
	m, err := Train(context.Background(), tab, map[string]string{"num_trees": "2"})
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	if err := m.Save(dir); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add([]byte{0x1f, 0x8b})
	s := tab.Schema()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := Load(p, s)
		if err != nil {
			return
		}
		if _, err := m.Predict([][]float64{make([]float64, len(s.Features))}); err != nil {
			t.Fatal(err)
		}
	})
}

package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
)

// TestFamiliesSaveLoad trains each family, saves a full directory, verifies
// it, loads it back through the MLmodel flavor and compares predictions
// and explanations.
func TestFamiliesSaveLoad(t *testing.T) {
	tab := testkit.German(t)
	rows := testkit.AllRows(tab)
	rows[3] = append([]float64(nil), rows[3]...)
	rows[3][0], rows[3][1] = math.NaN(), math.NaN()
	for _, tt := range []struct {
		family, flavor, file string
		params               map[string]string
		explains             bool
	}{
		{FamilyGBDT, FlavorLightGBM, "model.lgb", map[string]string{"num_iterations": "20"}, true},
		{FamilyLogistic, FlavorLogistic, "model.json", map[string]string{"l2": "2"}, true},
		{FamilyForest, FlavorForest, "model.golearn", map[string]string{"num_trees": "10"}, false},
		{FamilyScorecard, FlavorScorecard, "scorecard.json", map[string]string{"pdo": "40"}, true},
	} {
		t.Run(tt.family, func(t *testing.T) {
			m, err := Train(context.Background(), tt.family, tab, nil, TrainOptions{Params: tt.params})
			if err != nil {
				t.Fatal(err)
			}
			if m.Flavor() != tt.flavor {
				t.Fatalf("flavor %q", m.Flavor())
			}
			dir := filepath.Join(t.TempDir(), "model")
			if err := Save(dir, m, SaveOptions{Example: rows[:5]}); err != nil {
				t.Fatal(err)
			}
			if err := Verify(dir); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, tt.file)); err != nil {
				t.Fatal(err)
			}
			_, pyEnv := os.Stat(filepath.Join(dir, RequirementsFile))
			fam, _ := LookupFamily(tt.family)
			if (pyEnv == nil) != (fam.Loader != "") {
				t.Errorf("requirements.txt present: %v; want it for the pyfunc families only", pyEnv == nil)
			}
			d, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if d.Flavor != tt.flavor || len(d.MLmodel.Flavors) == 0 {
				t.Fatalf("loaded flavor %q", d.Flavor)
			}
			want, err := m.Predict(rows)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.Model.Predict(rows)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if got[i] != want[i] || math.IsNaN(got[i]) || got[i] < 0 || got[i] > 1 {
					t.Fatalf("row %d: loaded %v, trained %v", i, got[i], want[i])
				}
			}
			ex, err := d.Model.Predict(d.Example)
			if err != nil || len(ex) != 5 || ex[3] != want[3] {
				t.Fatalf("example predictions %v, %v", ex, err)
			}
			for k, v := range tt.params {
				if m.Params()[k] != v || d.Model.Params()[k] != v {
					t.Errorf("param %s: trained %q, loaded %q, want %q", k, m.Params()[k], d.Model.Params()[k], v)
				}
			}
			imp, measure := d.Model.(Importancer).Importance()
			var total float64
			for _, v := range imp {
				total += v
			}
			if len(imp) != len(tab.Columns) || measure == "" || !(total > 0) {
				t.Errorf("importance %v (%q)", imp, measure)
			}
			c, base, err := d.Model.Explain(rows[3])
			if !tt.explains {
				if !errors.Is(err, ErrNoExplain) {
					t.Fatalf("Explain: %v, want ErrNoExplain", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sum := base
			for _, v := range c {
				sum += v
			}
			if p := 1 / (1 + math.Exp(-sum)); math.Abs(p-want[3]) > 1e-9 {
				t.Fatalf("contributions give %v, prediction %v", p, want[3])
			}
		})
	}
}

func TestTrainErrors(t *testing.T) {
	tab := testkit.German(t)
	if _, err := Train(context.Background(), "svm", tab, nil, TrainOptions{}); err == nil || !strings.Contains(err.Error(), `"svm"`) {
		t.Errorf("unknown family: %v", err)
	}
	for _, f := range FamilyNames() {
		_, err := Train(context.Background(), f, tab, nil, TrainOptions{Params: map[string]string{"no_such_key": "1"}})
		if !errors.Is(err, ErrParam) || !strings.Contains(err.Error(), "no_such_key") {
			t.Errorf("%s: unknown key: %v, want ErrParam naming it", f, err)
		}
	}
	if _, err := Train(context.Background(), FamilyGBDT, tab, nil, TrainOptions{Params: map[string]string{"num_leaves": "1"}}); !errors.Is(err, ErrParam) {
		t.Errorf("gbdt num_leaves=1: %v, want ErrParam", err)
	}
}

// TestConcurrentPredict: serve calls Predict and Explain from many
// goroutines on one model (run with -race).
func TestConcurrentPredict(t *testing.T) {
	tab := testkit.German(t)
	rows := testkit.AllRows(tab)[:50]
	for _, f := range FamilyNames() {
		key := map[string]string{FamilyGBDT: "num_iterations", FamilyLogistic: "max_iter", FamilyForest: "num_trees", FamilyScorecard: "max_iter"}[f]
		m, err := Train(context.Background(), f, tab, nil, TrainOptions{Params: map[string]string{key: "10"}})
		if err != nil {
			t.Fatal(err)
		}
		want, err := m.Predict(rows)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i, r := range rows {
					p, err := m.Predict([][]float64{r})
					if err != nil || p[0] != want[i] {
						errs <- fmt.Errorf("%s row %d: %v %v, want %v", f, i, p, err, want[i])
						return
					}
					m.Explain(r)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}

// TestDegenerateData: tiny or one-class training data and a cancelled
// context give a usable model or an error, never a panic.
func TestDegenerateData(t *testing.T) {
	tab := testkit.German(t)
	var good []int
	for i, y := range tab.Label {
		if y == 0 && len(good) < 5 {
			good = append(good, i)
		}
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, f := range FamilyNames() {
		for name, sub := range map[string][]int{"one class": good, "one row": good[:1], "two rows": {0, 1}} {
			m, err := Train(context.Background(), f, tab.Subset(sub), nil, TrainOptions{})
			if err != nil {
				t.Logf("%s, %s: %v", f, name, err)
				continue
			}
			p, err := m.Predict(testkit.AllRows(tab)[:3])
			if err != nil {
				t.Fatalf("%s, %s: %v", f, name, err)
			}
			for _, v := range p {
				if math.IsNaN(v) || v < 0 || v > 1 {
					t.Fatalf("%s, %s: prediction %v", f, name, v)
				}
			}
		}
		if _, err := Train(cancelled, f, tab, nil, TrainOptions{}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v", f, err)
		}
	}
}

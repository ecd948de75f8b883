package serve

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/creditrisk/engine/model"
)

// TestFamilies serves each model family: /predict equals the model's
// Predict; /explain's contributions plus base give the probability for
// families that explain (logistic: coefficient × standardised value), and
// 501 for those that cannot.
func TestFamilies(t *testing.T) {
	tb := table(t)
	for _, tc := range []struct {
		family   string
		params   map[string]string
		explains bool
	}{
		{model.FamilyLogistic, map[string]string{"l2": "2"}, true},
		{model.FamilyForest, map[string]string{"num_trees": "5"}, false},
	} {
		t.Run(tc.family, func(t *testing.T) {
			m, err := model.Train(context.Background(), tc.family, tb, nil, model.TrainOptions{Params: tc.params})
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "model")
			if err := model.Save(dir, m, model.SaveOptions{Example: tb.Matrix([]int{0, 1})}); err != nil {
				t.Fatal(err)
			}
			src, _ := NewSource(dir, nil)
			s, _ := newServer(t, src, Options{})
			if _, err := s.Reload(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			h := s.Handler()
			want, _ := m.Predict(tb.Matrix([]int{9}))
			w := do(t, h, "POST", "/predict", ctJSON, mustJSON(t, record(t, 9)))
			if w.Code != 200 {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if p := decode[PredictResponse](t, w.Body).ProbabilityOfDefault; p != want[0] {
				t.Errorf("predict %v, model %v", p, want[0])
			}
			w = do(t, h, "POST", "/explain", ctJSON, mustJSON(t, record(t, 9)))
			if !tc.explains {
				if w.Code != 501 {
					t.Errorf("explain: %d %s, want 501", w.Code, w.Body)
				}
				return
			}
			if w.Code != 200 {
				t.Fatalf("explain: %d %s", w.Code, w.Body)
			}
			ex := decode[ExplainResponse](t, w.Body)
			sum := ex.BaseValue
			for _, c := range ex.Contributions {
				sum += c
			}
			if math.Abs(1/(1+math.Exp(-sum))-want[0]) > 1e-9 {
				t.Errorf("sigmoid(base + contributions) = %v, probability %v", 1/(1+math.Exp(-sum)), want[0])
			}
		})
	}
}

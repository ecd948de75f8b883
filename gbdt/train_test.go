package gbdt

import (
	"context"
	"math"
	"testing"
)

func trainOrFatal(t testing.TB, p Params, train, valid *Dataset, cb func(Iteration)) *Model {
	t.Helper()
	m, err := Train(context.Background(), p, train, valid, cb)
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	return m
}

func TestTrainQuality(t *testing.T) {
	for _, tc := range []struct {
		name    string
		load    func(testing.TB) *trainCSV
		params  map[string]string
		minAUC  float64
		maxLoss float64
	}{
		{"german", loadGerman, map[string]string{"num_iterations": "100", "learning_rate": "0.05", "num_leaves": "15"}, 0.74, 0.55},
		{"taiwan", loadTaiwan, map[string]string{"num_iterations": "100", "learning_rate": "0.1"}, 0.77, 0.45},
	} {
		t.Run(tc.name, func(t *testing.T) {
			train, test := tc.load(t).split()
			p := DefaultParams()
			for k, v := range tc.params {
				if err := p.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			var last Iteration
			m := trainOrFatal(t, p, train, test, func(it Iteration) { last = it })
			if len(m.Trees) != p.NumIterations {
				t.Errorf("got %d trees, want %d", len(m.Trees), p.NumIterations)
			}
			got := auc(modelScores(m, test), test.Labels)
			t.Logf("%s: test AUC %.4f, train AUC %.4f, train logloss %.4f, valid logloss %.4f", tc.name, got, last.TrainAUC, last.TrainLogLoss, last.ValidLogLoss)
			if got < tc.minAUC {
				t.Errorf("test AUC %.4f < %.2f", got, tc.minAUC)
			}
			if last.ValidLogLoss > tc.maxLoss {
				t.Errorf("valid log loss %.4f > %.2f", last.ValidLogLoss, tc.maxLoss)
			}
			// The model routes rows by real thresholds exactly as training
			// routed them by bins: its scores reproduce the trainer's.
			if d := math.Abs(logLoss(modelScores(m, train), train.Labels) - last.TrainLogLoss); d > 1e-12 {
				t.Errorf("model train log loss differs from the trainer's by %g", d)
			}
			if d := math.Abs(auc(modelScores(m, test), test.Labels) - last.ValidAUC); d > 1e-12 {
				t.Errorf("model test AUC differs from the trainer's by %g", d)
			}
		})
	}
}

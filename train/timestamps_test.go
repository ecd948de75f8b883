package train

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/gbdt"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/tracking"
)

// TestCurveTimestamps: on both servers and in the local store, the
// timestamps of every learning curve strictly increase with the step, as
// the backend gives the history back, so MLflow's charts with time on the
// x-axis draw a curve, not a vertical line.
func TestCurveTimestamps(t *testing.T) {
	backends := map[string]tracking.Backend{}
	for _, srv := range testkit.Servers(t) {
		c, err := mlflow.NewClient(srv.URI)
		if err != nil {
			t.Fatal(err)
		}
		backends[srv.Name] = server(c)
	}
	st, err := filestore.Open(filepath.Join(t.TempDir(), "mlruns"))
	if err != nil {
		t.Fatal(err)
	}
	backends["local"] = st
	for name, b := range backends {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Tracking.Experiment = unique("curve-timestamps")
			cfg.Model.Params = map[string]string{"num_iterations": "40", "early_stopping_round": "0"}
			res, err := Run(t.Context(), cfg, Options{Tracking: b, OutDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{metricTrainLoss, metricValidLoss, metricTrainAUC, metricValidAUC} {
				hist, err := b.GetMetricHistory(t.Context(), res.RunID, key)
				if err != nil {
					t.Fatal(err)
				}
				if len(hist) != res.Iterations || res.Iterations != 40 {
					t.Fatalf("%s: %d points for %d iterations", key, len(hist), res.Iterations)
				}
				sortByStep(hist)
				for i := 1; i < len(hist); i++ {
					if hist[i].Timestamp <= hist[i-1].Timestamp {
						t.Fatalf("%s: step %d at %d ms, step %d at %d ms; want strictly increasing", key,
							hist[i-1].Step, hist[i-1].Timestamp, hist[i].Step, hist[i].Timestamp)
					}
				}
				t.Logf("%s: steps 1..%d over %d ms", key, len(hist), hist[len(hist)-1].Timestamp-hist[0].Timestamp)
			}
		})
	}
}

// TestCurvesStamp: each iteration's points carry the time it finished;
// iterations in the same millisecond (or without a time) get the next
// one, so timestamps strictly increase with the step.
func TestCurvesStamp(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_000)
	its := []gbdt.Iteration{
		{Iter: 1, TrainLogLoss: 0.6, Finished: t0},
		{Iter: 2, TrainLogLoss: 0.5, Finished: t0.Add(300 * time.Microsecond)}, // same millisecond
		{Iter: 3, TrainLogLoss: 0.4, Finished: t0.Add(40 * time.Millisecond)},
		{Iter: 4, TrainLogLoss: 0.3},                                     // no time
		{Iter: 5, TrainLogLoss: 0.2, Finished: t0.Add(time.Millisecond)}, // a clock step back
	}
	want := []int64{0, 1, 40, 41, 42}
	var got []int64
	for _, m := range curves(its) {
		if m.Key == metricTrainLoss {
			got = append(got, m.Timestamp-t0.UnixMilli())
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d points, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("timestamps (ms after the first) %v, want %v", got, want)
			break
		}
	}
}

func sortByStep(h []mlflow.Metric) {
	for i := 1; i < len(h); i++ {
		for j := i; j > 0 && h[j].Step < h[j-1].Step; j-- {
			h[j], h[j-1] = h[j-1], h[j]
		}
	}
}

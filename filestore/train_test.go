package filestore_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/train"
)

// TestTrainIntoStore records a real training into a file store, with no
// server: MLflow's Python client then loads the registered model by alias
// from the store and scores rows with it.
func TestTrainIntoStore(t *testing.T) {
	pythons := map[string]string{"mlflow2": testkit.Python2(t), "mlflow3": testkit.Python(t)}
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "mlruns")
	s, err := filestore.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	cfg := train.DefaultConfig()
	cfg.Tracking.Experiment = "local"
	cfg.Tracking.Register = "credit-risk"
	out := filepath.Join(t.TempDir(), "run")
	res, err := train.Run(ctx, cfg, train.Options{Tracking: s, OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if res.Registered == nil || res.Registered.Version != "1" {
		t.Fatalf("registered %+v", res.Registered)
	}
	if err := s.SetRegisteredModelAlias(ctx, "credit-risk", "champion", "1"); err != nil {
		t.Fatal(err)
	}
	for name, py := range pythons {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(py, filepath.Join("testdata", "load_model.py"), "models:/credit-risk@champion", res.RunID)
			cmd.Env = append(os.Environ(), "MLFLOW_TRACKING_URI=file://"+root, "MLFLOW_ALLOW_FILE_STORE=true")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			b, err := cmd.Output()
			if err != nil {
				t.Fatalf("load_model.py: %v\n%s", err, stderr.String())
			}
			var got struct {
				N       int     `json:"n"`
				TestAUC float64 `json:"test_auc"`
				First   float64 `json:"first"`
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%v: %s", err, b)
			}
			if got.N != 3 || math.Abs(got.TestAUC-res.Metrics["test_auc"]) > 1e-12 || got.First <= 0 || got.First >= 1 {
				t.Errorf("Python saw %+v; want 3 rows scored in (0,1) and test_auc %v", got, res.Metrics["test_auc"])
			}
		})
	}
}

package promote

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/integrity"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/promote/promotetest"
	"github.com/creditrisk/engine/serve"
	"github.com/creditrisk/engine/tracking"
)

// The committed model directory that Python's mlflow.lightgbm.save_model
// wrote (model/testdata/make_python_lgbm.py): its MLmodel signature names
// the features, nothing names the label, and the run has no
// evaluation.json, holdout.csv nor digest.
var (
	pythonDir   = filepath.Join("..", "model", "testdata", "python_lgbm")
	pythonPreds = filepath.Join("..", "model", "testdata", "python_lgbm_predictions.json")
	germanCSV   = filepath.Join("..", "data", "german_credit.csv")
)

// registerDir logs dir as the "model" artifact of a run that has nothing
// else, and registers a version of it, as Python's mlflow.register_model
// does.
func registerDir(t *testing.T, b tracking.Backend, name, dir string) string {
	t.Helper()
	ctx := context.Background()
	exp, err := b.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "python"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := b.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID})
	if err != nil {
		t.Fatal(err)
	}
	store, err := b.Artifacts(run.Info.ArtifactURI)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.UploadDir(ctx, dir, tracking.ModelPath); err != nil {
		t.Fatal(err)
	}
	if err := b.TerminateRun(ctx, run.Info.RunID, mlflow.RunFinished); err != nil {
		t.Fatal(err)
	}
	mv, err := b.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: name, Source: run.Info.ArtifactURI + "/" + tracking.ModelPath, RunID: run.Info.RunID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitModelVersionReady(ctx, name, mv.Version, time.Minute); err != nil {
		t.Fatal(err)
	}
	return mv.Version
}

// TestPromotePythonLogged: a LightGBM version logged by Python's mlflow
// names no label; promote refuses it without Label and Positive, naming
// the flags, and with them scores the holdout by the signature's features
// (the holdout AUC equals the AUC of Python's own predictions), runs the
// gates, records the digest, and serve then loads it as registered,
// without AllowUnverified. A label the holdout lacks is refused by name.
func TestPromotePythonLogged(t *testing.T) {
	ctx := context.Background()
	_, st, name := localStore(t)
	v := registerDir(t, st, name, pythonDir)

	o := localOpts(t, name, v)
	o.AllowNoPyfunc = false
	o.Data = germanCSV
	_, err := Promote(ctx, st, o)
	if err == nil || !strings.Contains(err.Error(), "--label") || !strings.Contains(err.Error(), "--positive") {
		t.Fatalf("promote without a label: %v, want an error naming --label and --positive", err)
	}

	o.Label, o.Positive = "no_such_column", "bad"
	if _, err := Promote(ctx, st, o); err == nil || !strings.Contains(err.Error(), `"no_such_column"`) {
		t.Fatalf("promote with a label the holdout lacks: %v", err)
	}

	o.Label = "creditability"
	d, err := Promote(ctx, st, o)
	if err != nil || !d.Applied {
		t.Fatalf("promote with --label/--positive: %v (%+v)", err, d)
	}
	if d.Label != "creditability" || d.Positive != "bad" || d.HoldoutRows != 1000 {
		t.Errorf("decision label %q positive %q on %d rows", d.Label, d.Positive, d.HoldoutRows)
	}
	if g := gateNamed(t, d, GatePyfunc); g.Status != Pass {
		t.Errorf("pyfunc gate %+v", g)
	}

	// The AUC promote computed from our LightGBM reader equals the AUC of
	// the probabilities Python's LightGBM gave for the same rows.
	b, err := os.ReadFile(pythonPreds)
	if err != nil {
		t.Fatal(err)
	}
	var py struct {
		Probabilities []float64 `json:"probabilities"`
	}
	if err := json.Unmarshal(b, &py); err != nil {
		t.Fatal(err)
	}
	if len(py.Probabilities) != len(d.labels) {
		t.Fatalf("python has %d predictions, the holdout %d rows", len(py.Probabilities), len(d.labels))
	}
	for i, p := range py.Probabilities {
		if math.Abs(p-d.candScores[i]) > 1e-12 {
			t.Fatalf("row %d: promote scored %v, python %v", i, d.candScores[i], p)
		}
	}
	if want, got := testkit.AUC(d.labels, py.Probabilities), d.CandidateHoldout["auc"]; math.Abs(got-want) > 1e-12 {
		t.Errorf("holdout AUC %v, python's predictions give %v", got, want)
	}
	if d.TestSource != germanCSV {
		t.Errorf("test metrics from %q, want the holdout", d.TestSource)
	}

	mv, err := st.GetModelVersion(ctx, name, v)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := mv.Tag(integrity.TagFilesDigest); got == "" || got != d.Integrity.Digest || d.Integrity.RecordedAt != "promotion" {
		t.Errorf("digest tag %q, integrity %+v", got, d.Integrity)
	}

	src, err := serve.NewSource("models:/"+name+"@"+DefaultAlias, st)
	if err != nil {
		t.Fatal(err)
	}
	s, err := serve.New(src, prometheus.NewRegistry(), nil, serve.Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Reload(ctx, false); err != nil {
		t.Fatalf("serve the promoted python version without --allow-unverified: %v", err)
	}
}

// TestPromoteLabelConflict: a label or positive value that differs from
// what the candidate's schema names is refused, not silently preferred.
func TestPromoteLabelConflict(t *testing.T) {
	ctx := context.Background()
	_, st, name := localStore(t)
	v := promotetest.Register(t, st, name, "runs", strong)
	o := localOpts(t, name, v)
	o.Label, o.Positive = "creditability", "good"
	_, err := Promote(ctx, st, o)
	if err == nil || !strings.Contains(err.Error(), "--positive") || !strings.Contains(err.Error(), `"bad"`) {
		t.Fatalf("promote with a conflicting --positive: %v", err)
	}
	var ge *GateError
	if errors.As(err, &ge) {
		t.Fatalf("a conflict is a usage error, not a gate: %v", err)
	}
}

func TestLabelOf(t *testing.T) {
	for _, tt := range []struct {
		name                        string
		schemaLabel, schemaPos      string
		label, positive             string
		wantLabel, wantPos, wantErr string
	}{
		{name: "schema", schemaLabel: "y", schemaPos: "1", wantLabel: "y", wantPos: "1"},
		{name: "flags", label: "y", positive: "1", wantLabel: "y", wantPos: "1"},
		{name: "agreeing flags", schemaLabel: "y", schemaPos: "1", label: "y", positive: "1", wantLabel: "y", wantPos: "1"},
		{name: "flag completes schema", schemaLabel: "y", positive: "1", wantLabel: "y", wantPos: "1"},
		{name: "neither", wantErr: "--label COLUMN and --positive VALUE"},
		{name: "positive missing", label: "y", wantErr: "--label COLUMN and --positive VALUE"},
		{name: "label conflict", schemaLabel: "y", schemaPos: "1", label: "z", wantErr: `--label "z" differs from "y"`},
		{name: "positive conflict", schemaLabel: "y", schemaPos: "1", positive: "0", wantErr: `--positive "0" differs from "1"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, p, err := labelOf(&data.Schema{Label: tt.schemaLabel, Positive: tt.schemaPos}, tt.label, tt.positive)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q %q, %v; want an error with %q", l, p, err, tt.wantErr)
				}
				return
			}
			if err != nil || l != tt.wantLabel || p != tt.wantPos {
				t.Fatalf("got %q %q, %v; want %q %q", l, p, err, tt.wantLabel, tt.wantPos)
			}
		})
	}
}

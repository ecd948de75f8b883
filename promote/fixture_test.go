package promote

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/internal/stacktest"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/model"
)

// Model recipes for the fixtures: strong and mid pass the default policy,
// weak (one stump) does not reach its minimum AUC.
var (
	strong = recipe{family: model.FamilyLogistic}
	mid    = recipe{family: model.FamilyGBDT, params: map[string]string{"num_iterations": "60", "num_leaves": "7", "learning_rate": "0.05"}}
	weak   = recipe{family: model.FamilyGBDT, params: map[string]string{"num_iterations": "1", "num_leaves": "2"}}
	// narrow drops a required feature: a schema change.
	narrow = recipe{family: model.FamilyLogistic, drop: "age_in_years"}
)

type recipe struct {
	family string
	params map[string]string
	drop   string // a column left out of training
}

// split is the German credit data cut once, so every fixture model sees the
// same training, validation and test rows.
var split = sync.OnceValues(func() (*splitData, error) {
	t, err := data.Default()
	if err != nil {
		return nil, err
	}
	s, err := t.Split(data.Fractions{Train: 0.6, Validation: 0.2, Test: 0.2}, 42)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.WriteCSV(&buf); err != nil {
		return nil, err
	}
	return &splitData{table: t, splits: s, csv: buf.Bytes()}, nil
})

type splitData struct {
	table  *data.Table
	splits data.Splits
	csv    []byte
}

// tableFor returns the data as the recipe trains on it.
func (s *splitData) tableFor(r recipe) (*data.Table, error) {
	if r.drop == "" {
		return s.table, nil
	}
	return data.Load(bytes.NewReader(s.csv), data.Options{Name: "german-" + r.drop, Label: s.table.LabelCol,
		Positive: s.table.Positive, Types: map[string]data.Kind{r.drop: data.Ignore}})
}

// fullHoldout writes the test split with every column.
func fullHoldout(t *testing.T) string {
	t.Helper()
	s, err := split()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "holdout.csv")
	var buf bytes.Buffer
	if err := s.table.Subset(s.splits.Test).WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func newClient(t *testing.T, uri string) *mlflow.Client {
	t.Helper()
	c, err := mlflow.NewClient(uri, mlflow.WithRetries(2, 100*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fixture is a registered model of the test, deleted afterwards.
type fixture struct {
	t    *testing.T
	c    *mlflow.Client
	name string
	exp  string
}

func newFixture(t *testing.T, uri string) *fixture {
	t.Helper()
	c := newClient(t, uri)
	name := fmt.Sprintf("promote-test-%s-%d", t.Name(), time.Now().UnixNano())
	name = sanitize(name)
	f := &fixture{t: t, c: c, name: name, exp: "promote-test-runs"}
	if _, err := c.GetOrCreateRegisteredModel(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.DeleteRegisteredModel(context.Background(), name); err != nil {
			t.Logf("delete %s: %v", name, err)
		}
	})
	return f
}

func sanitize(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			b[i] = '-'
		}
	}
	return string(b)
}

// register trains a model by the recipe, logs it as train does (model/,
// evaluation.json, holdout.csv, params label and positive) and registers a
// version; it returns the version.
func (f *fixture) register(r recipe) string {
	t := f.t
	t.Helper()
	ctx := context.Background()
	s, err := split()
	if err != nil {
		t.Fatal(err)
	}
	tab, err := s.tableFor(r)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Train(ctx, r.family, tab.Subset(s.splits.Train), tab.Subset(s.splits.Validation), model.TrainOptions{Params: r.params})
	if err != nil {
		t.Fatal(err)
	}
	test := tab.Subset(s.splits.Test)
	rows := make([]int, test.Rows())
	for i := range rows {
		rows[i] = i
	}
	scores, err := m.Predict(test.Matrix(rows))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := evaluate.Evaluate(test.Label, scores, 0.5)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	mdir := filepath.Join(dir, "model")
	if err := model.Save(mdir, m, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, ReportFile), buf.Bytes())
	buf.Reset()
	if err := test.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, HoldoutFile), buf.Bytes())

	exp, err := f.c.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: f.exp})
	if err != nil {
		t.Fatal(err)
	}
	run, err := f.c.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID})
	if err != nil {
		t.Fatal(err)
	}
	id := run.Info.RunID
	if err := f.c.LogBatch(ctx, id, mlflow.Batch{Params: []mlflow.Param{{Key: "label", Value: tab.LabelCol}, {Key: "positive", Value: tab.Positive}}}); err != nil {
		t.Fatal(err)
	}
	store, err := artifact.Open(run.Info.ArtifactURI, f.c)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.UploadDir(ctx, mdir, "model"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ReportFile, HoldoutFile} {
		if err := store.Upload(ctx, filepath.Join(dir, name), name); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.c.TerminateRun(ctx, id, mlflow.RunFinished); err != nil {
		t.Fatal(err)
	}
	mv, err := f.c.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: f.name, Source: run.Info.ArtifactURI + "/model", RunID: id,
		Tags: []mlflow.Tag{{Key: "test_auc", Value: fmt.Sprint(rep.AUC)}, {Key: "test_brier", Value: fmt.Sprint(rep.Brier)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.WaitModelVersionReady(ctx, f.name, mv.Version, time.Minute); err != nil {
		t.Fatal(err)
	}
	return mv.Version
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// alias returns the version the alias names, "" when unset.
func (f *fixture) alias(alias string) string {
	f.t.Helper()
	mv, err := aliasVersion(context.Background(), f.c, f.name, alias)
	if err != nil {
		f.t.Fatal(err)
	}
	return versionOf(mv)
}

func (f *fixture) version(v string) *mlflow.ModelVersion {
	f.t.Helper()
	mv, err := f.c.GetModelVersion(context.Background(), f.name, v)
	if err != nil {
		f.t.Fatal(err)
	}
	return mv
}

// opts are promotion options for this fixture's model with a temporary
// promotions experiment.
func (f *fixture) opts(version string, p Policy) Options {
	return Options{Name: f.name, Version: version, Policy: p, User: "promote-test", Experiment: "promote-test-promotions", WorkDir: f.t.TempDir()}
}

// loose never fails on the comparison gates.
func loose() Policy {
	return Policy{MinAUC: 0, MaxBrier: 1, MaxECE: 1, AUCMargin: -1, DeLongP: 0, MaxPSI: 100, GatePSI: true}
}

// servers are the MLflow servers to run a test against.
func servers(t *testing.T) []stacktest.Server { return stacktest.Servers(t) }

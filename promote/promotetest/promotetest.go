// Package promotetest registers model versions the way pipeline train does,
// for the tests of promote and of the pipeline command: a run with model/,
// evaluation.json, holdout.csv and the label params, and a registered
// version of it. Models are trained on the embedded German credit data.
package promotetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/tracking"
)

// Recipes: Strong and Mid pass the default policy, Weak (one stump) does
// not reach its minimum AUC, Narrow drops a required feature.
var (
	Strong = Recipe{Family: model.FamilyLogistic}
	Mid    = Recipe{Family: model.FamilyGBDT, Params: map[string]string{"num_iterations": "60", "num_leaves": "7", "learning_rate": "0.05"}}
	Weak   = Recipe{Family: model.FamilyGBDT, Params: map[string]string{"num_iterations": "1", "num_leaves": "2"}}
	Narrow = Recipe{Family: model.FamilyLogistic, Drop: "age_in_years"}
)

// Recipe says how to train a fixture model.
type Recipe struct {
	Family string
	Params map[string]string
	Drop   string // a column left out of training
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

func (s *splitData) tableFor(r Recipe) (*data.Table, error) {
	if r.Drop == "" {
		return s.table, nil
	}
	return data.Load(bytes.NewReader(s.csv), data.Options{Name: "german-" + r.Drop, Label: s.table.LabelCol,
		Positive: s.table.Positive, Types: map[string]data.Kind{r.Drop: data.Ignore}})
}

// FullHoldout writes the test split with every column and returns its path.
func FullHoldout(t testing.TB) string {
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
	write(t, p, buf.Bytes())
	return p
}

// NewModel creates a registered model named after the test, deleted with
// its versions when the test ends where the store can delete models (a
// local store is the test's own temporary directory).
func NewModel(t testing.TB, c tracking.Backend) string {
	t.Helper()
	name := sanitize(fmt.Sprintf("promote-test-%s-%d", t.Name(), time.Now().UnixNano()))
	if _, err := c.GetOrCreateRegisteredModel(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.DeleteRegisteredModel(context.Background(), name); err != nil {
			t.Logf("delete %s: %v", name, err)
		}
	})
	return name
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

// Register trains a model by the recipe, logs it in experiment as pipeline
// train does and registers a version of name; it returns the version.
func Register(t testing.TB, c tracking.Backend, name, experiment string, r Recipe) string {
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
	m, err := model.Train(ctx, r.Family, tab.Subset(s.splits.Train), tab.Subset(s.splits.Validation), model.TrainOptions{Params: r.Params})
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
	mdir := filepath.Join(dir, tracking.ModelPath)
	if err := model.Save(mdir, m, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, tracking.EvaluationFile), buf.Bytes())
	buf.Reset()
	if err := test.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, tracking.HoldoutFile), buf.Bytes())

	exp, err := c.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: experiment})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID})
	if err != nil {
		t.Fatal(err)
	}
	id := run.Info.RunID
	if err := c.LogBatch(ctx, id, mlflow.Batch{Params: []mlflow.Param{{Key: "label", Value: tab.LabelCol}, {Key: "positive", Value: tab.Positive}}}); err != nil {
		t.Fatal(err)
	}
	store, err := c.Artifacts(run.Info.ArtifactURI)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.UploadDir(ctx, mdir, tracking.ModelPath); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{tracking.EvaluationFile, tracking.HoldoutFile} {
		if err := store.Upload(ctx, filepath.Join(dir, file), file); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.TerminateRun(ctx, id, mlflow.RunFinished); err != nil {
		t.Fatal(err)
	}
	mv, err := c.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: name, Source: run.Info.ArtifactURI + "/" + tracking.ModelPath, RunID: id,
		Tags: []mlflow.Tag{{Key: "test_auc", Value: fmt.Sprint(rep.AUC)}, {Key: "test_brier", Value: fmt.Sprint(rep.Brier)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitModelVersionReady(ctx, name, mv.Version, time.Minute); err != nil {
		t.Fatal(err)
	}
	return mv.Version
}

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

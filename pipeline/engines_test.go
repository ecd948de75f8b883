package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/promote"
	"github.com/creditrisk/engine/serve"
	"github.com/creditrisk/engine/tracking"
)

// TestDaskTrainedLightGBM: LightGBM trained by lightgbm.dask on a
// dask.distributed LocalCluster of two worker processes, logged and
// registered from Python on MLflow 3.17.2 (testdata/dask_train.py), goes
// through our flow: pipeline promote refuses it without --label and
// --positive (naming them), promotes it with them on the held-out rows,
// recording its digest and signing it, and pipeline serve loads it as
// signed, without --allow-unverified, and answers the booster's own
// predict_proba for every held-out row.
func TestDaskTrainedLightGBM(t *testing.T) {
	uri := testkit.TrackingURI(t)
	py := pythonWith(t, "dask.distributed", "lightgbm.dask")
	taiwan := testkit.Path(t, "taiwan_default.csv")
	t.Setenv("MLFLOW_TRACKING_URI", uri)
	name := "dask-lgbm-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	deleteAtEnd(t, uri, name)
	dir := t.TempDir()
	testkit.RunPython(t, 5*time.Minute, py, []string{"MLFLOW_TRACKING_URI=" + uri},
		filepath.Join("testdata", "dask_train.py"), taiwan, name, "20", dir)
	b, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var py3 struct {
		Version       string           `json:"version"`
		ModelURI      string           `json:"model_uri"`
		Workers       int              `json:"workers"`
		Trees         int              `json:"trees"`
		Records       []map[string]any `json:"records"`
		Probabilities []float64        `json:"probabilities"`
		LightGBM      string           `json:"lightgbm"`
		MLflow        string           `json:"mlflow"`
	}
	if err := json.Unmarshal(b, &py3); err != nil {
		t.Fatal(err)
	}
	if py3.Workers != 2 || py3.Trees != 20 || len(py3.Records) == 0 || len(py3.Records) != len(py3.Probabilities) {
		t.Fatalf("dask_train.py: %d workers, %d trees, %d records, %d probabilities", py3.Workers, py3.Trees, len(py3.Records), len(py3.Probabilities))
	}
	holdout := filepath.Join(dir, "holdout.csv")

	args := []string{"promote", "--name", name, "--version", py3.Version, "--data", holdout, "--output", "json"}
	if code, _, stderr := pipeline(t, args...); code != 1 || !strings.Contains(stderr, "--label") || !strings.Contains(stderr, "--positive") {
		t.Fatalf("promote without --label: exit %d, %s", code, stderr)
	}
	key, pub := writeKeys(t)
	args = append(args, "--label", "default payment next month", "--positive", "1", "--sign-key", key)
	code, stdout, stderr := pipeline(t, args...)
	if code != 0 {
		t.Fatalf("promote: exit %d: %s%s", code, stdout, stderr)
	}
	var d promote.Decision
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("promote output: %v\n%s", err, stdout)
	}
	if !d.Applied || d.HoldoutRows != len(py3.Records) || d.Integrity == nil || d.Integrity.RecordedAt != "promotion" || d.Integrity.KeyID == "" {
		t.Fatalf("decision: applied %v, %d holdout rows, integrity %+v", d.Applied, d.HoldoutRows, d.Integrity)
	}
	if want := testkit.AUC(labelsOf(t, holdout), py3.Probabilities); math.Abs(d.CandidateHoldout["auc"]-want) > 1e-12 {
		t.Errorf("promote's holdout AUC %v, the booster's predictions give %v", d.CandidateHoldout["auc"], want)
	}
	t.Logf("%s v%s (%s) from lightgbm %s / mlflow %s: holdout AUC %.4f on %d rows", name, py3.Version, py3.ModelURI, py3.LightGBM, py3.MLflow, d.CandidateHoldout["auc"], d.HoldoutRows)
	// The promotion run holds the version's validation report, its labels
	// read by --label and --positive.
	c, err := tracking.Open(tracking.Config{URI: uri, S3: s3.EnvConfig(os.Getenv)})
	if err != nil {
		t.Fatal(err)
	}
	if page := loggedReport(t, c, d.RunID); !strings.Contains(page, "Validation report: "+name) {
		t.Errorf("the promotion run's report is not %s's", name)
	}

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runServeCLI(ctx, &errOut, "serve", "--model", "models:/"+name+"@"+promote.DefaultAlias, "--addr", addr, "--poll", "0", "--verify-key", pub)
	}()
	waitReady(t, "http://"+addr, done, &errOut)
	var v serve.VersionResponse
	getJSON(t, "http://"+addr+"/version", &v)
	if v.Model == nil || v.Model.Integrity != serve.IntegritySigned || v.Model.Version != py3.Version {
		t.Fatalf("/version %+v, want version %s loaded as %s", v.Model, py3.Version, serve.IntegritySigned)
	}

	worst := 0.0
	const batch = 1000 // serve's default --max-batch
	for lo := 0; lo < len(py3.Records); lo += batch {
		hi := min(lo+batch, len(py3.Records))
		body, _ := json.Marshal(map[string]any{"instances": py3.Records[lo:hi]})
		resp, err := http.Post("http://"+addr+"/predict", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Predictions []struct {
				P float64 `json:"probability_of_default"`
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || len(got.Predictions) != hi-lo {
			t.Fatalf("/predict rows %d-%d: status %d, %d predictions, %v", lo, hi, resp.StatusCode, len(got.Predictions), err)
		}
		for i, p := range got.Predictions {
			worst = math.Max(worst, math.Abs(p.P-py3.Probabilities[lo+i]))
		}
	}
	if worst > 1e-12 {
		t.Errorf("served probabilities differ from the booster's predict_proba by up to %g", worst)
	}
	t.Logf("served %d held-out rows: largest difference from predict_proba %g", len(py3.Records), worst)
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve: exit %d: %s", code, errOut.String())
	}
}

// deleteAtEnd deletes the registered model name (made by the test, from Go
// or Python) with its versions when the test ends.
func deleteAtEnd(t *testing.T, uri, name string) {
	t.Helper()
	b, err := tracking.Open(tracking.Config{URI: uri, S3: s3.EnvConfig(os.Getenv)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.DeleteRegisteredModel(context.Background(), name); err != nil && !errors.Is(err, mlflow.ErrNotFound) {
			t.Logf("delete %s: %v", name, err)
		}
	})
}

// pythonWith returns the stack's MLflow 3 Python after checking that it
// imports modules: a virtualenv built before requirements/mlflow3.txt
// listed them is Unavailable, with the way to fix it, rather than a
// traceback halfway through a test.
func pythonWith(t *testing.T, modules ...string) string {
	t.Helper()
	py := testkit.Python(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, py, "-c", "import "+strings.Join(modules, ", ")).CombinedOutput(); err != nil {
		testkit.Unavailable(t, "%s cannot import %s (%v: %s); scripts/stack up rebuilds the virtualenv from requirements/mlflow3.txt",
			py, strings.Join(modules, ", "), err, bytes.TrimSpace(out))
	}
	return py
}

// labelsOf reads Taiwan's label column of a CSV as 0/1.
func labelsOf(t *testing.T, path string) []float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range rows[0] {
		if h == "default payment next month" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("%s has no label column", path)
	}
	out := make([]float64, 0, len(rows)-1)
	for _, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[col], 64)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

// waitReady waits for a server started in the background to answer /ready,
// failing early if it exits.
func waitReady(t *testing.T, base string, done <-chan int, log *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if get(t, base+"/ready") == 200 {
			return
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before it was ready: %s", code, log.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("%s/ready never answered 200: %s", base, log.String())
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d, %v", url, resp.StatusCode, err)
	}
}

// TestSparkScoresLikePredict: a gbdt model that pipeline train fitted on
// Taiwan (EDUCATION and MARRIAGE as categories, so Spark passes their
// levels as strings) and registered on MLflow 3.17.2, scored on Apache
// Spark in local mode with mlflow.pyfunc.spark_udf (testdata/
// spark_score.py), gives pipeline predict's probabilities for all 30,000
// rows.
func TestSparkScoresLikePredict(t *testing.T) {
	uri := testkit.TrackingURI(t)
	py := pythonWith(t, "pyspark")
	taiwan := testkit.Path(t, "taiwan_default.csv")
	if _, err := exec.LookPath("java"); err != nil {
		testkit.Unavailable(t, "Spark needs java on PATH (Debian: apt-get install default-jre-headless): %v", err)
	}
	t.Setenv("MLFLOW_TRACKING_URI", uri)
	cfg := filepath.Join(t.TempDir(), "taiwan.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "data:\n  path: %s\n  label: default payment next month\n  positive: \"1\"\n  types:\n    ID: ignore\n    EDUCATION: categorical\n    MARRIAGE: categorical\nmodel:\n  params:\n    num_iterations: \"20\"\n", taiwan), 0o644); err != nil {
		t.Fatal(err)
	}
	name := "spark-gbdt-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	deleteAtEnd(t, uri, name)
	res := trainJSON(t, "--config", cfg, "--experiment", "engines-spark", "--register", name)
	ref := "models:/" + name + "/" + res.Registered.Version
	want := predictCSV(t, ref, taiwan)

	out := filepath.Join(t.TempDir(), "spark.json")
	start := time.Now()
	testkit.RunPython(t, 5*time.Minute, py, []string{"MLFLOW_TRACKING_URI=" + uri}, filepath.Join("testdata", "spark_score.py"), ref, taiwan, out)
	took := time.Since(start)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		IDs           []int     `json:"ids"`
		Probabilities []float64 `json:"probabilities"`
		Partitions    int       `json:"partitions"`
		Spark         string    `json:"spark"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Probabilities) != len(want) || len(got.IDs) != len(want) {
		t.Fatalf("spark scored %d rows, pipeline predict %d", len(got.Probabilities), len(want))
	}
	worst := 0.0
	for i, p := range got.Probabilities {
		// Taiwan's IDs are 1..30000 in file order.
		if got.IDs[i] != i+1 {
			t.Fatalf("spark row %d has ID %d", i, got.IDs[i])
		}
		worst = math.Max(worst, math.Abs(p-want[i]))
	}
	if worst > 1e-9 {
		t.Errorf("spark_udf differs from pipeline predict by up to %g", worst)
	}
	t.Logf("Spark %s, %d partitions, %d rows in %v: largest difference from pipeline predict %g", got.Spark, got.Partitions, len(want), took.Round(time.Second), worst)
}

package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/tracking"
	"github.com/creditrisk/engine/train"
)

// trainJSON runs `pipeline train --output json` with args and returns its
// result.
func trainJSON(t *testing.T, args ...string) train.Result {
	t.Helper()
	code, stdout, stderr := pipeline(t, append([]string{"train", "--output", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("train %v: exit %d: %s", args, code, stderr)
	}
	var res train.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("train output: %v\n%s", err, stdout)
	}
	return res
}

// modelFile reads one file of the model a training recorded, wherever its
// backend keeps it (the run's model/, or an MLflow 3 logged model's own
// location), as predict and serve find it: through res.ModelURI.
func modelFile(t *testing.T, res train.Result, name string) []byte {
	t.Helper()
	b, err := tracking.Open(tracking.Config{URI: res.TrackingURI, S3: s3.EnvConfig(os.Getenv)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := tracking.ParseRef(res.ModelURI)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "model")
	if err := tracking.Fetch(t.Context(), b, r, dir); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLoggedModelLikePython: after `pipeline train --register` on MLflow
// 3.17.2, the official client finds our logged model as it finds one that
// mlflow.lightgbm.log_model made in the same experiment: the two are
// described field by field (LoggedModel, the run's outputs, the registered
// version, the MLmodel, search, pyfunc) and every field must be filled in
// ours exactly when it is in Python's, besides what ours must hold.
func TestLoggedModelLikePython(t *testing.T) {
	uri := testkit.TrackingURI(t)
	py := testkit.Python(t)
	german := testkit.Path(t, "german_credit.csv")
	t.Setenv("MLFLOW_TRACKING_URI", uri)
	sfx := strconv.FormatInt(time.Now().UnixNano(), 36)
	exp, name := "logged-like-python-"+sfx, "credit-logged-"+sfx
	res := trainJSON(t, "--experiment", exp, "--register", name, "--data", german, "--label", "creditability", "--positive", "bad")
	if res.ModelID == "" || res.ModelURI != "models:/"+res.ModelID || res.Registered == nil {
		t.Fatalf("train on MLflow 3: model id %q, model URI %q, registered %+v", res.ModelID, res.ModelURI, res.Registered)
	}
	spec, _ := json.Marshal(map[string]string{"experiment": exp, "model_id": res.ModelID, "run_id": res.RunID,
		"registered": name, "version": res.Registered.Version, "python_registered": name + "-python", "data": german})
	out := filepath.Join(t.TempDir(), "compare.json")
	testkit.RunPython(t, 5*time.Minute, py, []string{"MLFLOW_TRACKING_URI=" + uri}, filepath.Join("testdata", "compare_logged.py"), string(spec), out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Ours, Python map[string]any
		MLflow       string
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	// What ours must hold, whatever Python's does.
	for k, want := range map[string]any{
		"model.status_value": "READY", "model.source_run_is_run": true, "model.params": true, "model.metrics": true,
		"model.metrics_linked_to_model": true, "model.metrics[].dataset_name": true, "model.metrics[].dataset_digest": true,
		"run.outputs_name_model": true, "run.eval_input": true, "version.source_is_model": true,
		"version.run_id_is_run": true, "version.download_uri_is_location": true, "found_by_search": true,
		"pyfunc_predicts": true, "MLmodel.artifact_path_is_location": true, "MLmodel.model_uuid_is_id": true,
	} {
		if fmt.Sprint(got.Ours[k]) != fmt.Sprint(want) {
			t.Errorf("ours: %s = %v, want %v", k, got.Ours[k], want)
		}
	}
	if regs := fmt.Sprint(got.Ours["model.registrations"]); !strings.Contains(regs, name) {
		t.Errorf("ours: mlflow.modelVersions %s does not name %s", regs, name)
	}
	// Field by field: filled in ours exactly when filled in Python's.
	// The version's model_id is such a field: MLflow 3.17.2's SQL registry
	// does not keep it (both come back empty); what it keeps of the link
	// is the source models:/<model_id>, checked above.
	keys := make([]string, 0, len(got.Python))
	for k := range got.Python {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var table strings.Builder
	for _, k := range keys {
		if k == "model.registrations" {
			continue // names differ by construction
		}
		p, o := fmt.Sprint(got.Python[k]), fmt.Sprint(got.Ours[k])
		if k == "version.model_id" {
			p, o = fmt.Sprint(got.Python[k] != nil), fmt.Sprint(got.Ours[k] != nil)
		}
		fmt.Fprintf(&table, "%-40s python %-8s ours %s\n", k, p, o)
		if p != o {
			t.Errorf("%s: python's logged model has %s, ours %s", k, p, o)
		}
	}
	t.Logf("MLflow %s, our logged model %s against Python's:\n%s", got.MLflow, res.ModelID, table.String())
}

// TestPyfuncMatchesPredict: on MLflow 3.x and 2.9.2, for German credit and
// Taiwan default (with EDUCATION and MARRIAGE as categories, so levels
// look like numbers), mlflow.pyfunc.load_model(uri).predict(df) on the raw
// CSV's columns gives `pipeline predict`'s probabilities. The uri is the
// registered version, and on 3.x also models:/<model_id>.
func TestPyfuncMatchesPredict(t *testing.T) {
	german := testkit.Path(t, "german_credit.csv")
	taiwan := taiwanSample(t, testkit.Path(t, "taiwan_default.csv"), 3000)
	taiwanCfg := filepath.Join(t.TempDir(), "taiwan.yaml")
	cfg := fmt.Sprintf("data:\n  path: %s\n  label: default payment next month\n  positive: \"1\"\n  types:\n    ID: ignore\n    EDUCATION: categorical\n    MARRIAGE: categorical\nmodel:\n  params:\n    num_iterations: \"80\"\n", taiwan)
	if err := os.WriteFile(taiwanCfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, srv := range testkit.Servers(t) {
		py := testkit.Python(t)
		if srv.Name == "2.9.2" {
			py = testkit.Python2(t)
		}
		t.Run(srv.Name, func(t *testing.T) {
			t.Setenv("MLFLOW_TRACKING_URI", srv.URI)
			for _, ds := range []struct {
				name, csv string
				args      []string
			}{
				{"german", german, []string{"--data", german, "--label", "creditability", "--positive", "bad"}},
				{"taiwan", taiwan, []string{"--config", taiwanCfg}},
			} {
				t.Run(ds.name, func(t *testing.T) {
					reg := "pyfunc-" + ds.name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
					res := trainJSON(t, append(ds.args, "--experiment", "pyfunc-parity", "--register", reg)...)
					uris := []string{"models:/" + reg + "/" + res.Registered.Version}
					if res.ModelID != "" {
						uris = append(uris, res.ModelURI)
					}
					if (res.ModelID != "") != (srv.Name == "3.x") {
						t.Errorf("model id %q on MLflow %s", res.ModelID, srv.Name)
					}
					for _, uri := range uris {
						want := predictCSV(t, uri, ds.csv)
						got := pyfuncCSV(t, py, srv.URI, uri, ds.csv)
						if len(got) != len(want) {
							t.Fatalf("%s: pyfunc gave %d rows, predict %d", uri, len(got), len(want))
						}
						worst := 0.0
						for i := range want {
							worst = math.Max(worst, math.Abs(got[i]-want[i]))
						}
						if worst > 1e-9 {
							t.Errorf("%s: pyfunc differs from pipeline predict by up to %g", uri, worst)
						}
						t.Logf("%s on MLflow %s, %d rows: largest difference %g", uri, srv.Name, len(want), worst)
					}
				})
			}
		})
	}
}

// taiwanSample writes the first n rows of the Taiwan data to a file: enough
// for the check, cheaper to train on two busy cores than 30,000.
func taiwanSample(t *testing.T, path string, n int) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfterN(b, []byte("\n"), n+2)
	out := filepath.Join(t.TempDir(), "taiwan_sample.csv")
	if err := os.WriteFile(out, bytes.Join(lines[:n+1], nil), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// predictCSV scores a CSV with `pipeline predict` and returns the
// probabilities (its last column).
func predictCSV(t *testing.T, uri, data string) []float64 {
	t.Helper()
	scored := filepath.Join(t.TempDir(), "scored.csv")
	if code, _, stderr := pipeline(t, "predict", "--model", uri, "--data", data, "--out", scored); code != 0 {
		t.Fatalf("predict %s: exit %d: %s", uri, code, stderr)
	}
	f, err := os.Open(scored)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, r := range rows[1:] {
		p, err := strconv.ParseFloat(r[len(r)-1], 64)
		if err != nil {
			t.Fatalf("%s: %v", scored, err)
		}
		out = append(out, p)
	}
	return out
}

// pyfuncCSV scores a CSV with mlflow.pyfunc: testdata/pyfunc_csv.py reads
// it with pandas, the columns the signature declares as strings as text.
func pyfuncCSV(t *testing.T, py, trackingURI, uri, data string) []float64 {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pyfunc.json")
	testkit.RunPython(t, 5*time.Minute, py, []string{"MLFLOW_TRACKING_URI=" + trackingURI}, filepath.Join("testdata", "pyfunc_csv.py"), uri, data, out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var p []float64
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return p
}

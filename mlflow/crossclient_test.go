package mlflow_test

// The cross-client check: a run, its artifacts and a registered version
// logged by this Go client must read back the same through MLflow's own
// Python client (testdata/registry_crossclient.py), on the 3.x server with
// mlflow 3.x and on the 2.9.2 server with mlflow 2.9.2. This is an external
// test package because it uploads with package artifact, which imports
// package mlflow.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
)

// pyReport is what registry_crossclient.py prints.
type pyReport struct {
	MLflowVersion string `json:"mlflow_version"`
	Run           struct {
		Status        string             `json:"status"`
		Name          string             `json:"name"`
		ArtifactURI   string             `json:"artifact_uri"`
		Params        map[string]string  `json:"params"`
		Tags          map[string]string  `json:"tags"`
		LatestMetrics map[string]float64 `json:"latest_metrics"`
	} `json:"run"`
	Metrics map[string][][3]float64 `json:"metrics"` // [step, value, timestamp], sorted
	Inputs  []struct {
		Name       string            `json:"name"`
		Digest     string            `json:"digest"`
		SourceType string            `json:"source_type"`
		Source     string            `json:"source"`
		Schema     string            `json:"schema"`
		Profile    string            `json:"profile"`
		Tags       map[string]string `json:"tags"`
	} `json:"inputs"`
	Artifacts []struct {
		Path  string `json:"path"`
		IsDir bool   `json:"is_dir"`
		Size  int64  `json:"size"`
	} `json:"artifacts"`
	DownloadedRunModel   map[string]string `json:"downloaded_run_model"`
	DownloadedAliasModel map[string]string `json:"downloaded_alias_model"`
	ModelVersion         struct {
		Name    string            `json:"name"`
		Version string            `json:"version"`
		RunID   string            `json:"run_id"`
		Source  string            `json:"source"`
		Status  string            `json:"status"`
		Tags    map[string]string `json:"tags"`
		Aliases []string          `json:"aliases"`
	} `json:"model_version"`
	RegisteredModelAliases map[string]string `json:"registered_model_aliases"`
}

func crossSuffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestCrossClientPython(t *testing.T) {
	servers := testkit.Servers(t)
	endpoint, key, secret := testkit.S3(t)
	python := map[string]string{"3.x": testkit.Python(t), "2.9.2": testkit.Python2(t)}
	for _, s := range servers {
		t.Run(s.Name, func(t *testing.T) {
			crossCheck(t, s.URI, python[s.Name], []string{
				"MLFLOW_TRACKING_URI=" + s.URI,
				"MLFLOW_S3_ENDPOINT_URL=" + endpoint,
				"AWS_ACCESS_KEY_ID=" + key,
				"AWS_SECRET_ACCESS_KEY=" + secret,
			})
		})
	}
}

func crossCheck(t *testing.T, uri, python string, env []string) {
	ctx := t.Context()
	c, err := mlflow.NewClient(uri, mlflow.WithRetries(2, 100*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	sfx := crossSuffix(t)

	expID, err := c.CreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "crossclient-" + sfx})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: expID, RunName: "go-run-" + sfx, Tags: mlflow.SourceFromEnv(os.Getenv).Tags()})
	if err != nil {
		t.Fatal(err)
	}
	runID := run.Info.RunID

	// Params, metric histories with steps and exact timestamps, tags.
	t0 := time.Now().UnixMilli() - 10_000
	var metrics []mlflow.Metric
	auc := []float64{0.61, 0.6875, 0.7234, 0.75, 0.7731}
	for step, v := range auc {
		metrics = append(metrics, mlflow.Metric{Key: "auc", Value: v, Step: int64(step), Timestamp: t0 + int64(step)})
	}
	metrics = append(metrics,
		mlflow.Metric{Key: "logloss", Value: 0.5, Step: 0, Timestamp: t0},
		mlflow.Metric{Key: "logloss", Value: 0.45, Step: 10, Timestamp: t0 + 10})
	params := []mlflow.Param{{Key: "learning_rate", Value: "0.05"}, {Key: "num_leaves", Value: "31"}, {Key: "label", Value: "creditability"}}
	tags := []mlflow.Tag{{Key: "team", Value: "risk"}, {Key: "mlflow.note.content", Value: "logged by the Go client"}}
	if err := c.LogBatch(ctx, runID, mlflow.Batch{Metrics: metrics, Params: params, Tags: tags}); err != nil {
		t.Fatal(err)
	}

	dataset := mlflow.Dataset{
		// A fresh digest: 2.9.2 links an input to any dataset with the same
		// name and digest that already exists, even in another experiment,
		// keeping that one's source and schema.
		Name: "german_credit", Digest: sfx[:8], SourceType: "local",
		Source:  `{"uri": "data/german_credit.csv"}`,
		Schema:  `{"mlflow_colspec": [{"type": "double", "name": "age", "required": true}]}`,
		Profile: `{"num_rows": 1000, "num_elements": 21000}`,
	}
	if err := c.LogInputs(ctx, runID, []mlflow.DatasetInput{{Dataset: dataset, Tags: []mlflow.Tag{{Key: "mlflow.data.context", Value: "training"}}}}); err != nil {
		t.Fatal(err)
	}

	// Artifacts: a model directory and a report, straight to the run's store.
	modelFiles := map[string][]byte{
		"MLmodel":               []byte("artifact_path: model\nflavors:\n  lightgbm:\n    data: model.lgb\n"),
		"model.lgb":             []byte("tree\nversion=v4\nnum_class=1\n"),
		"requirements.txt":      []byte("lightgbm\n"),
		"extra/schema.json":     []byte(`{"features": ["age"]}`),
		"extra/deep/binary.bin": bytes.Repeat([]byte{0, 1, 2, 255}, 5000),
	}
	src := t.TempDir()
	for rel, data := range modelFiles {
		p := filepath.Join(src, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st, err := artifact.Open(run.Info.ArtifactURI, artifact.Config{S3: s3.EnvConfig(os.Getenv), Proxy: c})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UploadDir(ctx, src, "model"); err != nil {
		t.Fatal(err)
	}
	if err := st.Upload(ctx, filepath.Join(src, "extra", "schema.json"), "reports/schema.json"); err != nil {
		t.Fatal(err)
	}

	// Registry: a version from the run's model directory, with an alias.
	name := "crossclient-" + sfx
	if _, err := c.GetOrCreateRegisteredModel(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteRegisteredModel(t.Context(), name) })
	source := run.Info.ArtifactURI + "/model"
	mv, err := c.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: name, Source: source, RunID: runID, Tags: []mlflow.Tag{{Key: "sha256", Value: "abc123"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitModelVersionReady(ctx, name, mv.Version, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.SetRegisteredModelAlias(ctx, name, "champion", mv.Version); err != nil {
		t.Fatal(err)
	}
	if err := c.TerminateRun(ctx, runID, mlflow.RunFinished); err != nil {
		t.Fatal(err)
	}

	// Read everything back with the Python client.
	cmd := exec.CommandContext(ctx, python, filepath.Join("testdata", "registry_crossclient.py"), runID, name, "champion", t.TempDir())
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("registry_crossclient.py: %v\n%s", err, stderr.String())
	}
	var got pyReport
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("decode the script's output: %v\n%s", err, stdout.String())
	}
	t.Logf("read back with mlflow %s", got.MLflowVersion)

	if got.Run.Status != "FINISHED" || got.Run.Name != "go-run-"+sfx || got.Run.ArtifactURI != run.Info.ArtifactURI {
		t.Errorf("run info: %+v", got.Run)
	}
	for _, p := range params {
		if got.Run.Params[p.Key] != p.Value {
			t.Errorf("param %s = %q, want %q", p.Key, got.Run.Params[p.Key], p.Value)
		}
	}
	if len(got.Run.Params) != len(params) {
		t.Errorf("params %v", got.Run.Params)
	}
	for _, tg := range append(tags, mlflow.SourceFromEnv(os.Getenv).Tags()...) {
		if got.Run.Tags[tg.Key] != tg.Value {
			t.Errorf("tag %s = %q, want %q", tg.Key, got.Run.Tags[tg.Key], tg.Value)
		}
	}

	want := map[string][][3]float64{}
	for _, m := range metrics {
		want[m.Key] = append(want[m.Key], [3]float64{float64(m.Step), m.Value, float64(m.Timestamp)})
	}
	for k := range want {
		slices.SortFunc(want[k], func(a, b [3]float64) int { return int(a[0] - b[0]) })
	}
	if fmt.Sprint(got.Metrics) != fmt.Sprint(want) {
		t.Errorf("metric histories:\n got  %v\n want %v", got.Metrics, want)
	}
	if got.Run.LatestMetrics["auc"] != 0.7731 || got.Run.LatestMetrics["logloss"] != 0.45 {
		t.Errorf("latest metrics %v", got.Run.LatestMetrics)
	}

	if len(got.Inputs) != 1 {
		t.Fatalf("inputs %+v", got.Inputs)
	}
	in := got.Inputs[0]
	if in.Name != dataset.Name || in.Digest != dataset.Digest || in.SourceType != dataset.SourceType ||
		in.Source != dataset.Source || in.Schema != dataset.Schema || in.Profile != dataset.Profile ||
		in.Tags["mlflow.data.context"] != "training" {
		t.Errorf("dataset input %+v", in)
	}

	// Artifacts as the Python client lists them (the server lists s3:// roots).
	var listed []string
	for _, a := range got.Artifacts {
		if a.IsDir {
			listed = append(listed, a.Path+"/")
		} else {
			listed = append(listed, fmt.Sprintf("%s:%d", a.Path, a.Size))
		}
	}
	slices.Sort(listed)
	wantListed := []string{"model/", "model/extra/", "model/extra/deep/", "reports/", fmt.Sprintf("reports/schema.json:%d", len(modelFiles["extra/schema.json"]))}
	for rel, data := range modelFiles {
		wantListed = append(wantListed, fmt.Sprintf("model/%s:%d", rel, len(data)))
	}
	slices.Sort(wantListed)
	if !slices.Equal(listed, wantListed) {
		t.Errorf("list_artifacts:\n got  %q\n want %q", listed, wantListed)
	}

	hashes := map[string]string{}
	for rel, data := range modelFiles {
		sum := sha256.Sum256(data)
		hashes[rel] = hex.EncodeToString(sum[:])
	}
	if !maps.Equal(got.DownloadedRunModel, hashes) {
		t.Errorf("download_artifacts(run, model):\n got  %v\n want %v", got.DownloadedRunModel, hashes)
	}
	// Downloading models:/ makes the Python client add its own
	// registered_model_meta file.
	if _, ok := got.DownloadedAliasModel["registered_model_meta"]; !ok {
		t.Errorf("download_artifacts(models:/…) wrote no registered_model_meta: %v", got.DownloadedAliasModel)
	}
	delete(got.DownloadedAliasModel, "registered_model_meta")
	if !maps.Equal(got.DownloadedAliasModel, hashes) {
		t.Errorf("download_artifacts(models:/%s@champion):\n got  %v\n want %v", name, got.DownloadedAliasModel, hashes)
	}

	v := got.ModelVersion
	if v.Name != name || v.Version != mv.Version || v.RunID != runID || v.Source != source || v.Status != mlflow.StatusReady ||
		v.Tags["sha256"] != "abc123" || !slices.Equal(v.Aliases, []string{"champion"}) {
		t.Errorf("model version by alias: %+v", v)
	}
	if got.RegisteredModelAliases["champion"] != mv.Version {
		t.Errorf("registered model aliases %v", got.RegisteredModelAliases)
	}
	if t.Failed() {
		t.Logf("script output: %s", strings.TrimSpace(stdout.String()))
	}
}

package train

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/gbdt"
	"github.com/creditrisk/engine/integrity"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/tracking"
)

func unique(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// Without a tracker, a run writes everything to its output directory.
func TestRunLocal(t *testing.T) {
	for _, family := range model.FamilyNames() {
		t.Run(family, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			cfg.Model.Family = family
			out := t.TempDir()
			res, err := Run(t.Context(), cfg, Options{OutDir: out})
			if err != nil {
				t.Fatal(err)
			}
			if auc := res.Metrics["test_auc"]; !(auc > 0.65 && auc < 1) {
				t.Errorf("test AUC %v on German credit", auc)
			}
			if res.Rows != (SplitSizes{600, 200, 200}) {
				t.Errorf("rows %+v", res.Rows)
			}
			for _, f := range []string{"evaluation.json", tracking.HoldoutFile, "plots/roc.png", "plots/summary.png", "plots/gains.png", "plots/lift.png", "plots/strategy.png", "model/MLmodel", "model/checksums.json", "model/reference_profile.json", "model/schema.json"} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Errorf("missing %s: %v", f, err)
				}
			}
			if err := model.Verify(res.ModelDir); err != nil {
				t.Errorf("model directory does not verify: %v", err)
			}
			// The saved model scores the recorded holdout as the run did.
			m, err := model.Load(res.ModelDir)
			if err != nil {
				t.Fatal(err)
			}
			hold, err := data.LoadFile(filepath.Join(out, tracking.HoldoutFile), data.DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			batch, err := m.Schema().LoadBatchFile(filepath.Join(out, tracking.HoldoutFile))
			if err != nil {
				t.Fatal(err)
			}
			scores, err := m.Predict(batch.X)
			if err != nil {
				t.Fatal(err)
			}
			r := readReport(t, filepath.Join(out, "evaluation.json"))
			if r.N != hold.Rows() || math.Abs(testkit.AUC(hold.Label, scores)-r.AUC) > 1e-12 {
				t.Errorf("holdout AUC %v, evaluation.json says %v over %d rows", testkit.AUC(hold.Label, scores), r.AUC, r.N)
			}
		})
	}
}

func TestRunDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	var sums []string
	for range 2 {
		res, err := Run(t.Context(), cfg, Options{OutDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(res.ModelDir, "model.lgb"))
		if err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(b)
		sums = append(sums, hex.EncodeToString(s[:]))
	}
	if sums[0] != sums[1] {
		t.Errorf("two runs of the same config wrote different model files")
	}
}

// Bad input fails before a run exists, with the file, line and column named.
func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, body, label, positive, want string
	}{
		{"ragged.csv", "a,b,y\n1,2,1\n3,1\n", "y", "1", "ragged.csv:3"},
		{"nolabel.csv", "a,b\n1,2\n", "y", "1", "nolabel.csv"},
		{"threeclasses.csv", "a,y\n1,1\n2,0\n3,2\n", "y", "1", "threeclasses.csv"},
		{"neverpositive.csv", "a,y\n1,0\n2,no\n", "y", "1", "neverpositive.csv"},
		{"empty.csv", "", "y", "1", "empty.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Data = DataConfig{Path: write(tt.name, tt.body), Label: tt.label, Positive: tt.positive}
			rec := &countingTracker{}
			_, err := Run(t.Context(), cfg, Options{OutDir: t.TempDir(), Tracking: rec})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one naming %q", err, tt.want)
			}
			var de *data.Error
			if !errors.As(err, &de) {
				t.Errorf("error %T is not a *data.Error", err)
			}
			if rec.calls != 0 {
				t.Errorf("bad input reached the tracker (%d calls)", rec.calls)
			}
		})
	}
}

// A bad hyper-parameter is refused before a run exists.
func TestRunBadParam(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Model.Params = map[string]string{"learning_rate": "fast"}
	rec := &countingTracker{}
	_, err := Run(t.Context(), cfg, Options{OutDir: t.TempDir(), Tracking: rec})
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "learning_rate") {
		t.Fatalf("error %v, want a ConfigError naming learning_rate", err)
	}
	if rec.calls != 0 {
		t.Errorf("a bad parameter reached the tracker")
	}
}

// countingTracker fails the test's premise if any tracking call is made.
type countingTracker struct {
	tracking.Backend
	calls int
}

func (c *countingTracker) GetOrCreateExperiment(context.Context, mlflow.CreateExperimentRequest) (*mlflow.Experiment, error) {
	c.calls++
	return nil, errors.New("unexpected call")
}

func readReport(t *testing.T, path string) *evaluateReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r evaluateReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

type evaluateReport struct {
	N   int     `json:"n"`
	AUC float64 `json:"auc"`
}

// TestRunOnServers logs and registers each family on the real MLflow
// servers and checks the result through the REST API and through the
// official Python client, including mlflow.pyfunc predictions.
func TestRunOnServers(t *testing.T) {
	for _, srv := range testkit.Servers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			c, err := mlflow.NewClient(srv.URI)
			if err != nil {
				t.Fatal(err)
			}
			for _, family := range model.FamilyNames() {
				t.Run(family, func(t *testing.T) {
					checkServerRun(t, srv, c, family)
				})
			}
		})
	}
}

func checkServerRun(t *testing.T, srv testkit.Server, c *mlflow.Client, family string) {
	ctx := t.Context()
	cfg := DefaultConfig()
	cfg.Model.Family = family
	cfg.Tracking = TrackingConfig{Experiment: unique("train-test"), RunName: "run-" + family, Description: "test run of " + family, Register: unique("credit-" + family)}
	out := t.TempDir()
	tags := map[string]string{mlflow.TagUser: "tester", "mlflow.source.name": "pipeline train", "mlflow.source.type": "LOCAL"}
	res, err := Run(ctx, cfg, Options{Tracking: server(c), OutDir: out, Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.GetRun(ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Info.Status != mlflow.RunFinished || run.Info.RunName != "run-"+family {
		t.Errorf("run status %s name %q", run.Info.Status, run.Info.RunName)
	}
	for _, k := range []string{"model_family", "data_source", "data_digest", "split_seed", "split_train_rows", "split_validation_rows", "split_test_rows", "cutoff", "label", "positive"} {
		if _, ok := run.Param(k); !ok {
			t.Errorf("param %s missing", k)
		}
	}
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range m.Params() {
		if got, _ := run.Param(k); got != v {
			t.Errorf("param %s = %q, model says %q", k, got, v)
		}
	}
	for k, v := range map[string]string{mlflow.TagUser: "tester", "mlflow.source.type": "LOCAL", "mlflow.note.content": "test run of " + family, "mlflow.runName": "run-" + family} {
		if got, _ := run.Tag(k); got != v {
			t.Errorf("tag %s = %q, want %q", k, got, v)
		}
	}
	// MLflow 3 servers get a logged model, linked as the run's output;
	// 2.9.2 the run's mlflow.log-model.history entry.
	lm, err := c.SupportsLoggedModels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h, hasHistory := run.Tag("mlflow.log-model.history")
	switch {
	case lm:
		if res.ModelID == "" || res.ModelURI != "models:/"+res.ModelID || hasHistory ||
			!slices.Equal(run.Outputs.ModelOutputs, []mlflow.LoggedModelOutput{{ModelID: res.ModelID}}) {
			t.Errorf("MLflow 3: model id %q, model URI %q, outputs %+v, log-model history %v; want a logged model as the run's only output and no history",
				res.ModelID, res.ModelURI, run.Outputs.ModelOutputs, hasHistory)
		}
	default:
		var history []struct {
			RunID        string         `json:"run_id"`
			ArtifactPath string         `json:"artifact_path"`
			Flavors      map[string]any `json:"flavors"`
		}
		if err := json.Unmarshal([]byte(h), &history); err != nil || len(history) != 1 || history[0].RunID != res.RunID || history[0].ArtifactPath != "model" || history[0].Flavors[m.Flavor()] == nil {
			t.Errorf("mlflow.log-model.history = %q (%v)", h, err)
		}
		if res.ModelID != "" || len(run.Outputs.ModelOutputs) != 0 {
			t.Errorf("MLflow 2.9.2: model id %q, outputs %+v; want none", res.ModelID, run.Outputs.ModelOutputs)
		}
	}
	inputs := map[string]string{}
	for _, in := range run.Inputs.DatasetInputs {
		ctxTag, _ := findTag(in.Tags, mlflow.TagDatasetCtx)
		inputs[ctxTag] = in.Dataset.Name
	}
	wantInputs := map[string]string{"training": "german_credit"}
	if lm {
		wantInputs[evalContext] = "german_credit_test"
	}
	if !maps.Equal(inputs, wantInputs) {
		t.Errorf("dataset inputs by context %v, want %v", inputs, wantInputs)
	}
	for k, v := range res.Metrics {
		hist, err := c.GetMetricHistory(ctx, res.RunID, k)
		if err != nil || len(hist) != 1 || hist[0].Value != v {
			t.Errorf("metric %s: %+v %v, want %v", k, hist, err, v)
		}
	}
	if family == "gbdt" {
		hist, err := c.GetMetricHistory(ctx, res.RunID, metricValidLoss)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != res.Iterations || hist[0].Step != 1 || hist[len(hist)-1].Step != int64(res.Iterations) {
			t.Errorf("%s has %d points, want one per iteration 1..%d", metricValidLoss, len(hist), res.Iterations)
		}
	}
	// runs:/<run>/model finds the model directory on either layout.
	fetched := filepath.Join(t.TempDir(), "model")
	if err := tracking.Fetch(ctx, server(c), mustRef(t, "runs:/"+res.RunID+"/model"), fetched); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MLmodel", "checksums.json", "schema.json", "reference_profile.json", "input_example.json"} {
		if _, err := os.Stat(filepath.Join(fetched, want)); err != nil {
			t.Errorf("runs:/%s/model: %v", res.RunID, err)
		}
	}

	reg := res.Registered
	if reg == nil || reg.Version != "1" {
		t.Fatalf("registered %+v", reg)
	}
	mv, err := c.GetModelVersion(ctx, reg.Name, reg.Version)
	if err != nil {
		t.Fatal(err)
	}
	file, err := modelFile(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(res.ModelDir, file))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if mv.Status != mlflow.StatusReady || mv.RunID != res.RunID || tagOf(mv.Tags, "model_sha256") != hex.EncodeToString(sum[:]) || tagOf(mv.Tags, "test_auc") == "" {
		t.Errorf("model version %+v", mv)
	}
	// A version made from a logged model has source models:/<model_id>.
	// Its model_id is sent, but MLflow 3.17.2's SQL registry does not
	// store it (Python's own log_model gets none back either; the local
	// store keeps it): the pipeline test compares with Python's version.
	if res.ModelID != "" && (mv.Source != "models:/"+res.ModelID || mv.ModelID != "" && mv.ModelID != res.ModelID) {
		t.Errorf("version source %q, model_id %q; want models:/%s", mv.Source, mv.ModelID, res.ModelID)
	}
	checkDigests(t, res, mv, server(c))
	pythonCheck(t, srv, res, reg)
}

func mustRef(t *testing.T, s string) tracking.Ref {
	t.Helper()
	r, err := tracking.ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func findTag(tags []mlflow.Tag, key string) (string, bool) {
	for _, t := range tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// checkDigests: the version and its run carry the digest of the model
// directory as uploaded, which the downloaded files match.
func checkDigests(t *testing.T, res *Result, mv *mlflow.ModelVersion, b tracking.Backend) {
	t.Helper()
	files, err := integrity.HashDir(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	want := integrity.Digest(files)
	run, err := b.GetRun(t.Context(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	runTag, _ := run.Tag(integrity.TagFilesDigest)
	if got := tagOf(mv.Tags, integrity.TagFilesDigest); got != want || runTag != want {
		t.Errorf("%s: version %q, run %q, want %s", integrity.TagFilesDigest, got, runTag, want)
	}
	dir := filepath.Join(t.TempDir(), "down")
	if err := tracking.Fetch(t.Context(), b, tracking.Ref{Name: mv.Name, Version: mv.Version}, dir); err != nil {
		t.Fatal(err)
	}
	down, err := integrity.HashDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := integrity.Digest(down); got != want {
		t.Errorf("downloaded files have digest %s, the tag says %s", got, want)
	}
}

// TestRegisterLocalStore: registering into the local store records the
// digests too.
func TestRegisterLocalStore(t *testing.T) {
	st, err := filestore.Open(filepath.Join(t.TempDir(), "mlruns"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Model.Family = model.FamilyLogistic
	cfg.Tracking = TrackingConfig{Experiment: "digests", Register: "credit-digests"}
	res, err := Run(t.Context(), cfg, Options{Tracking: st, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	mv, err := st.GetModelVersion(t.Context(), res.Registered.Name, res.Registered.Version)
	if err != nil {
		t.Fatal(err)
	}
	checkDigests(t, res, mv, st)
}

func tagOf(tags []mlflow.Tag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

// pythonCheck has the official client read the run and the registered
// version, and mlflow.pyfunc score the holdout; the gbdt family must
// predict what Go predicts.
func pythonCheck(t *testing.T, srv testkit.Server, res *Result, reg *Registration) {
	t.Helper()
	py := testkit.Python(t)
	if srv.Name == "2.9.2" {
		py = testkit.Python2(t)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "testdata/read_run.py", res.RunID, reg.Name, reg.Version, filepath.Join(res.OutDir, tracking.HoldoutFile))
	cmd.Env = append(os.Environ(), "MLFLOW_TRACKING_URI="+srv.URI)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python check: %v", err)
	}
	var got struct {
		Params    map[string]string  `json:"params"`
		Metrics   map[string]float64 `json:"metrics"`
		Tags      map[string]string  `json:"tags"`
		Dataset   string             `json:"dataset"`
		Artifacts []string           `json:"artifacts"`
		// ModelArtifacts are the files of models:/NAME/VERSION.
		ModelArtifacts []string  `json:"model_artifacts"`
		Version        string    `json:"version"`
		Status         string    `json:"status"`
		Pyfunc         []float64 `json:"pyfunc"`
		PyfuncErr      string    `json:"pyfunc_error"`
		HasLGBM        bool      `json:"has_lightgbm"`
		RunID          string    `json:"run_id"`
		StepsValid     int       `json:"validation_steps"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	if got.RunID != res.RunID || got.Status != "READY" || got.Version != reg.Version || got.Dataset != "german_credit" {
		t.Errorf("python sees run %s version %s (%s) dataset %q", got.RunID, got.Version, got.Status, got.Dataset)
	}
	for k, v := range res.Metrics {
		if got.Metrics[k] != v {
			t.Errorf("python metric %s = %v, want %v", k, got.Metrics[k], v)
		}
	}
	if got.Params["model_family"] != res.Family || got.Tags["mlflow.user"] != "tester" {
		t.Errorf("python params/tags: %v / %v", got.Params, got.Tags)
	}
	for _, want := range []string{"evaluation.json", tracking.HoldoutFile, "plots/roc.png"} {
		if !slices.Contains(got.Artifacts, want) {
			t.Errorf("python lists no %s in %v", want, got.Artifacts)
		}
	}
	// The model directory is the run's on 2.9.2, the logged model's on 3.x.
	if has := slices.Contains(got.Artifacts, "model/MLmodel"); has != (res.ModelID == "") {
		t.Errorf("python lists model/MLmodel among the run's artifacts: %v; the run has logged model %q", has, res.ModelID)
	}
	if !slices.Contains(got.ModelArtifacts, "MLmodel") {
		t.Errorf("python downloads no MLmodel for models:/%s/%s: %v", reg.Name, reg.Version, got.ModelArtifacts)
	}
	// The pyfunc families (gbdt; scorecard through its shipped loader)
	// load from the registry in Python and predict as Go does.
	if fam, _ := model.LookupFamily(res.Family); fam.Loader == "" {
		return
	}
	if res.Family == model.FamilyGBDT && res.Iterations > 0 && got.StepsValid != res.Iterations {
		t.Errorf("python sees %d validation steps, want %d", got.StepsValid, res.Iterations)
	}
	if !got.HasLGBM {
		t.Fatalf("%s has no lightgbm (requirements/*.txt install it): pyfunc cannot be checked on MLflow %s", py, srv.Name)
	}
	if got.PyfuncErr != "" {
		t.Fatalf("pyfunc: %s", got.PyfuncErr)
	}
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := m.Schema().LoadBatchFile(filepath.Join(res.OutDir, tracking.HoldoutFile))
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Predict(batch.X)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Pyfunc) != len(want) {
		t.Fatalf("pyfunc gave %d predictions, want %d", len(got.Pyfunc), len(want))
	}
	for i := range want {
		if d := math.Abs(got.Pyfunc[i] - want[i]); d > 1e-9 {
			t.Fatalf("row %d: pyfunc %v, Go %v", i, got.Pyfunc[i], want[i])
		}
	}
}

// failingS3 is a backend whose artifact uploads go through a proxy in front
// of the real MinIO that refuses every object write after the first few, as
// when the store goes away part-way through the upload.
type failingS3 struct {
	tracking.Backend
	endpoint string
}

func (f failingS3) Artifacts(uri string) (artifact.Store, error) {
	cfg := s3.EnvConfig(os.Getenv)
	cfg.Endpoint = f.endpoint
	return s3.New(uri, cfg)
}

func TestUploadFailureLeavesNoVersion(t *testing.T) {
	uri := testkit.TrackingURI(t)
	endpoint, _, _ := testkit.S3(t)
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var puts atomic.Int32
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && puts.Add(1) > 3 {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>store unavailable (test)</Message></Error>`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()

	c, err := mlflow.NewClient(uri)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Tracking = TrackingConfig{Experiment: unique("train-fail"), Register: unique("credit-fail")}
	_, err = Run(t.Context(), cfg, Options{Tracking: failingS3{server(c), srv.URL}, OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "upload artifacts") {
		t.Fatalf("error %v, want an upload failure", err)
	}
	exp, err := c.GetExperimentByName(t.Context(), cfg.Tracking.Experiment)
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.SearchRuns(t.Context(), mlflow.SearchRunsRequest{ExperimentIDs: []string{exp.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Runs) != 1 || page.Runs[0].Info.Status != mlflow.RunFailed {
		t.Fatalf("runs after a failed upload: %+v", page.Runs)
	}
	if _, err := c.GetRegisteredModel(t.Context(), cfg.Tracking.Register); !errors.Is(err, mlflow.ErrNotFound) {
		t.Errorf("registered model after a failed upload: %v", err)
	}
}

// runCreated closes created once the run exists.
type runCreated struct {
	tracking.Backend
	created chan struct{}
}

func (r *runCreated) CreateRun(ctx context.Context, req mlflow.CreateRunRequest) (*mlflow.Run, error) {
	run, err := r.Backend.CreateRun(ctx, req)
	close(r.created)
	return run, err
}

// A cancelled run (Ctrl-C) is marked KILLED.
func TestCancelMarksKilled(t *testing.T) {
	c, err := mlflow.NewClient(testkit.TrackingURI(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Tracking.Experiment = unique("train-kill")
	cfg.Model.Params = map[string]string{"num_iterations": "100000", "early_stopping_round": "0"}
	ctx, cancel := context.WithCancel(t.Context())
	var once sync.Once
	// The run is created while the model trains: cancel once it exists.
	tr := &runCreated{Backend: server(c), created: make(chan struct{})}
	_, err = Run(ctx, cfg, Options{Tracking: tr, OutDir: t.TempDir(), OnIteration: func(it gbdt.Iteration) {
		if it.Iter >= 5 {
			<-tr.created
			once.Do(cancel)
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	exp, err := c.GetExperimentByName(t.Context(), cfg.Tracking.Experiment)
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.SearchRuns(t.Context(), mlflow.SearchRunsRequest{ExperimentIDs: []string{exp.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Runs) != 1 || page.Runs[0].Info.Status != mlflow.RunKilled {
		t.Fatalf("runs after cancellation: %+v", page.Runs)
	}
}

// server is the tracking backend of the stack's server c talks to.
func server(c *mlflow.Client) tracking.Backend {
	return tracking.NewServer(c, s3.EnvConfig(os.Getenv))
}

// TestRefit: with Split.Refit the final model is trained on every row as a
// child run of the split run, stopping at the split run's best iteration;
// it carries the split run's test metrics under split_run/ (none of its
// own), no holdout, and is the version registered. A final model on all
// rows was once impossible (split.test: 0 is refused).
func TestRefit(t *testing.T) {
	ctx := t.Context()
	st, err := filestore.Open(filepath.Join(t.TempDir(), "mlruns"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Split.Refit = true
	cfg.Tracking.Register = "refit"
	res, err := Run(ctx, cfg, Options{Tracking: st, OutDir: filepath.Join(t.TempDir(), "run")})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Refit
	if r == nil || r.RunID == "" || r.RunID == res.RunID || r.Rows != 1000 || r.Iterations != res.BestIteration || r.Iterations == 0 {
		t.Fatalf("refit %+v of %+v", r, res)
	}
	run, err := st.GetRun(ctx, r.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := run.Tag(mlflow.TagParentRunID); p != res.RunID {
		t.Errorf("parent %q, want %s", p, res.RunID)
	}
	if v, _ := run.Param("num_iterations"); v != fmt.Sprint(res.BestIteration) {
		t.Errorf("num_iterations %q, want %d", v, res.BestIteration)
	}
	metrics := map[string]float64{}
	for _, m := range run.Data.Metrics {
		metrics[m.Key] = m.Value
	}
	if metrics["split_run/test_auc"] != res.Metrics["test_auc"] || metrics["test_auc"] != 0 {
		t.Errorf("refit metrics %v; want the split run's test_auc %v under split_run/ only", metrics, res.Metrics["test_auc"])
	}
	files, err := st.ListArtifacts(ctx, r.RunID, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Path)
	}
	if !slices.Contains(names, tracking.EvaluationFile) || slices.Contains(names, tracking.HoldoutFile) {
		t.Errorf("refit artifacts %v", names)
	}
	// The local store has logged models: the refit's model is one, which
	// runs:/<refit run>/model finds too.
	if !strings.HasPrefix(r.ModelURI, "models:/m-") {
		t.Errorf("refit model URI %q, want its logged model", r.ModelURI)
	}
	for _, ref := range []string{r.ModelURI, "runs:/" + r.RunID + "/" + tracking.ModelPath} {
		dir := filepath.Join(t.TempDir(), "model")
		if err := tracking.Fetch(ctx, st, mustRef(t, ref), dir); err != nil {
			t.Fatal(err)
		}
		if _, err := model.Load(dir); err != nil {
			t.Errorf("%s: %v", ref, err)
		}
	}
	mv, err := st.GetModelVersion(ctx, "refit", res.Registered.Version)
	if err != nil || mv.RunID != r.RunID {
		t.Errorf("registered %+v, %v; want the refit run's model", mv, err)
	}
}

// TestModelMetricsBeforeLink: the test metrics, which go to the logged
// model too, are all in before the model is linked to the run and marked
// READY, however slowly the store takes them (they are logged while the
// files upload): a local store read the model's half-written metric files
// otherwise.
func TestModelMetricsBeforeLink(t *testing.T) {
	st, err := filestore.Open(filepath.Join(t.TempDir(), "mlruns"))
	if err != nil {
		t.Fatal(err)
	}
	tr := &linkOrderTracker{Backend: st}
	cfg := DefaultConfig()
	cfg.Model.Family = model.FamilyLogistic
	cfg.Tracking = TrackingConfig{Experiment: "link-order"}
	if _, err := Run(t.Context(), cfg, Options{Tracking: tr, OutDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if tr.linked.Load() == 0 {
		t.Fatal("no model metric was logged: the case tests nothing")
	}
	if msg, _ := tr.early.Load().(string); msg != "" {
		t.Error(msg)
	}
}

// linkOrderTracker takes a while over batches with model metrics and notes
// a link or finalize that comes while one is still pending.
type linkOrderTracker struct {
	tracking.Backend
	pending, linked atomic.Int32
	early           atomic.Value // string
}

func (o *linkOrderTracker) LogBatch(ctx context.Context, runID string, b mlflow.Batch) error {
	if !slices.ContainsFunc(b.Metrics, func(m mlflow.Metric) bool { return m.ModelID != "" }) {
		return o.Backend.LogBatch(ctx, runID, b)
	}
	o.pending.Add(1)
	defer o.pending.Add(-1)
	o.linked.Add(1)
	time.Sleep(200 * time.Millisecond)
	return o.Backend.LogBatch(ctx, runID, b)
}

func (o *linkOrderTracker) LogOutputs(ctx context.Context, runID string, models []mlflow.LoggedModelOutput) error {
	if o.pending.Load() > 0 {
		o.early.Store("the model was linked to the run while its metrics were still being logged")
	}
	return o.Backend.LogOutputs(ctx, runID, models)
}

func (o *linkOrderTracker) FinalizeLoggedModel(ctx context.Context, id string, status mlflow.LoggedModelStatus) (*mlflow.LoggedModel, error) {
	if o.pending.Load() > 0 {
		o.early.Store("the model was finalized while its metrics were still being logged")
	}
	return o.Backend.FinalizeLoggedModel(ctx, id, status)
}

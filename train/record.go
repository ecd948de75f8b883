package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/gbdt"
	"github.com/creditrisk/engine/integrity"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/tracking"
)

// recorder logs one run.
type recorder struct {
	t            tracking.Backend
	runID        string
	experimentID string
	artifactURI  string
	source       string         // the data's source as a dataset's JSON
	eval         mlflow.Dataset // the test split as logged, if it was (logInputs)
	lm           *logged        // the MLflow 3 logged model (logged.go)
}

// Metric keys of the per-iteration learning curves.
const (
	metricTrainLoss = "train_log_loss"
	metricValidLoss = "validation_log_loss"
	metricTrainAUC  = "train_auc"
	metricValidAUC  = "validation_auc"
)

// startRun creates the run and logs its dataset inputs: table, whose
// digest is digest, and, where the backend has logged models, test (the
// test split; nil for none). It runs while the model trains.
func startRun(ctx context.Context, t tracking.Backend, cfg Config, table *data.Table, digest string, test *data.Table, extra map[string]string) (*recorder, error) {
	exp, err := t.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: cfg.Tracking.Experiment})
	if err != nil {
		return nil, fmt.Errorf("experiment %q: %w", cfg.Tracking.Experiment, err)
	}
	var tags []mlflow.Tag
	for _, k := range sortedKeys(extra) {
		tags = append(tags, mlflow.Tag{Key: k, Value: extra[k]})
	}
	if cfg.Tracking.Description != "" {
		tags = append(tags, mlflow.Tag{Key: "mlflow.note.content", Value: cfg.Tracking.Description})
	}
	tags = append(tags, mlflow.Tag{Key: "model_family", Value: cfg.Model.Family})
	run, err := t.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID, RunName: cfg.Tracking.RunName, Tags: tags})
	if err != nil {
		return nil, fmt.Errorf("create run in experiment %s: %w", exp.ID, err)
	}
	r := &recorder{t: t, runID: run.Info.RunID, experimentID: exp.ID, artifactURI: run.Info.ArtifactURI, source: sourceJSON(cfg)}
	if err := r.logInputs(ctx, table, digest, test); err != nil {
		return r, r.finish(ctx, err)
	}
	return r, nil
}

// url is the run's page in the MLflow UI.
func (r *recorder) url() string {
	base := strings.TrimRight(r.t.TrackingURI(), "/")
	if !strings.HasPrefix(base, "http") {
		return ""
	}
	return fmt.Sprintf("%s/#/experiments/%s/runs/%s", base, r.experimentID, r.runID)
}

// finish ends the run: FINISHED after success, KILLED after cancellation,
// FAILED otherwise. It returns runErr, or the error of ending the run.
func (r *recorder) finish(ctx context.Context, runErr error) error {
	status := mlflow.RunFinished
	switch {
	case runErr == nil:
	case ctx.Err() != nil || errors.Is(runErr, context.Canceled):
		status = mlflow.RunKilled
	default:
		status = mlflow.RunFailed
	}
	// The run's own context may be cancelled already (Ctrl-C): end the run
	// with a fresh, bounded one so it is not left RUNNING.
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if runErr != nil {
		r.abandonLogged(endCtx)
	}
	if err := r.t.TerminateRun(endCtx, r.runID, status); err != nil {
		if runErr != nil {
			return fmt.Errorf("%w (and marking run %s %s failed: %v)", runErr, r.runID, status, err)
		}
		return fmt.Errorf("end run %s: %w", r.runID, err)
	}
	return runErr
}

// logInputs logs the training data and, where the backend has logged
// models (whose test metrics are linked to it), the test split as the
// evaluation dataset, as mlflow.evaluate does. Both go in one call while
// the model trains: after training, the server's round trips would hold
// up the model directory, which waits for its logged model.
func (r *recorder) logInputs(ctx context.Context, table *data.Table, digest string, test *data.Table) error {
	ins := []mlflow.DatasetInput{r.input("training", datasetName(table.Source), digest, table)}
	if test != nil {
		ok, err := r.t.SupportsLoggedModels(ctx)
		if err != nil {
			return err
		}
		if ok {
			in := r.input(evalContext, datasetName(test.Source)+"_test", test.Digest(), test)
			r.eval = in.Dataset
			ins = append(ins, in)
		}
	}
	if err := r.t.LogInputs(ctx, r.runID, ins); err != nil {
		return fmt.Errorf("log dataset inputs: %w", err)
	}
	return nil
}

// input is t, whose Digest is digest, as the run's dataset input in the
// role given ("training", "eval"; MLflow's dataset context).
func (r *recorder) input(role, name, digest string, t *data.Table) mlflow.DatasetInput {
	return mlflow.DatasetInput{
		Tags: []mlflow.Tag{{Key: mlflow.TagDatasetCtx, Value: role}},
		Dataset: mlflow.Dataset{
			Name:       name,
			Digest:     data.ShortDigest(digest),
			SourceType: "local",
			Source:     r.source,
			Schema:     t.MLflowSchema(),
			Profile:    t.MLflowProfile(),
		},
	}
}

// logTraining logs the run's params and the learning curves.
func (r *recorder) logTraining(ctx context.Context, params map[string]string, iters []gbdt.Iteration) error {
	var b mlflow.Batch
	for _, k := range sortedKeys(params) {
		b.Params = append(b.Params, mlflow.Param{Key: k, Value: params[k]})
	}
	b.Metrics = curves(iters)
	if err := r.t.LogBatch(ctx, r.runID, b); err != nil {
		return fmt.Errorf("log params and learning curves: %w", err)
	}
	return nil
}

// curves are the learning curves as metrics, one point per iteration as
// its step, stamped with the time the iteration finished: MLflow's charts
// put time on the x-axis by default (relative time in 2.9), and points of
// one timestamp draw as a vertical line. Iterations a millisecond apart
// or less get the next millisecond, so every curve's timestamps strictly
// increase with the step, as Python's lightgbm autolog writes them.
func curves(iters []gbdt.Iteration) []mlflow.Metric {
	var ms []mlflow.Metric
	var ts int64
	add := func(key string, v float64, step int64) {
		if !math.IsNaN(v) {
			ms = append(ms, mlflow.Metric{Key: key, Value: v, Timestamp: ts, Step: step})
		}
	}
	for i, it := range iters {
		t := it.Finished.UnixMilli()
		switch {
		case it.Finished.IsZero() && i == 0:
			t = time.Now().UnixMilli()
		case i > 0 && (it.Finished.IsZero() || t <= ts):
			t = ts + 1
		}
		ts = t
		step := int64(it.Iter)
		add(metricTrainLoss, it.TrainLogLoss, step)
		add(metricValidLoss, it.ValidLogLoss, step)
		add(metricTrainAUC, it.TrainAUC, step)
		add(metricValidAUC, it.ValidAUC, step)
	}
	return ms
}

// logMetrics logs the final test metrics.
func (r *recorder) logMetrics(ctx context.Context, final map[string]float64) error {
	now := time.Now().UnixMilli()
	var b mlflow.Batch
	for _, k := range sortedKeys(final) {
		b.Metrics = append(b.Metrics, r.linked(mlflow.Metric{Key: k, Value: final[k], Timestamp: now}))
	}
	if err := r.t.LogBatch(ctx, r.runID, b); err != nil {
		return fmt.Errorf("log metrics: %w", err)
	}
	return nil
}

// logResults logs the final metrics and uploads the run's output
// directory at once: they go to different servers. A logged model is
// linked to the run and marked READY only once its metrics are in, so that
// whoever reads it finds them whole.
func (r *recorder) logResults(ctx context.Context, dir string, metrics map[string]float64) error {
	logged := make(chan error, 1)
	go func() { logged <- r.logMetrics(ctx, metrics) }()
	metricsIn := sync.OnceValue(func() error { return <-logged })
	err := r.uploadArtifacts(ctx, dir, metricsIn)
	if merr := metricsIn(); err == nil {
		err = merr
	}
	return err
}

// uploadArtifacts copies the run's output directory to its artifact root,
// the model directory to the logged model's location when there is one
// (logged.go), and returns once metricsIn has.
func (r *recorder) uploadArtifacts(ctx context.Context, dir string, metricsIn func() error) error {
	if lm, err := r.loggedModel(); err != nil || lm != nil {
		if err != nil {
			return err
		}
		return r.uploadLogged(ctx, lm, dir, metricsIn)
	}
	store, err := r.t.Artifacts(r.artifactURI)
	if err != nil {
		return fmt.Errorf("artifact store %s: %w", r.artifactURI, err)
	}
	if err := store.UploadDir(ctx, dir, ""); err != nil {
		return fmt.Errorf("upload artifacts to %s: %w", r.artifactURI, err)
	}
	return metricsIn()
}

// logModel records the model directory in the run's
// mlflow.log-model.history, as MLflow 2.x's log_model does (MLflow 3's
// links a logged model as the run's output instead: uploadLogged).
func (r *recorder) logModel(ctx context.Context, dir string) error {
	if lm, err := r.loggedModel(); err != nil || lm != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(dir, model.MLmodelFile))
	if err != nil {
		return fmt.Errorf("log model: %w", err)
	}
	mm, err := model.ParseMLmodel(filepath.Join(dir, model.MLmodelFile), b)
	if err != nil {
		return fmt.Errorf("log model: %w", err)
	}
	// The entry MLflow's Model.get_tags_dict gives: the MLmodel without
	// signature, example and metadata, flavors without their "config".
	js, err := json.Marshal(map[string]any{
		"run_id":           r.runID,
		"artifact_path":    mm.ArtifactPath,
		"utc_time_created": mm.UTCTimeCreated,
		"model_uuid":       mm.ModelUUID,
		"flavors":          mm.Flavors,
	})
	if err != nil {
		return fmt.Errorf("log model: %w", err)
	}
	if err := r.t.LogModel(ctx, r.runID, js); err != nil {
		return fmt.Errorf("log model: %w", err)
	}
	return nil
}

// registerTimeout bounds the wait for a new version to become READY.
const registerTimeout = 5 * time.Minute

// register creates a version of the registered model name from the run's
// model directory, waits until it is READY and tags it with the headline
// test metrics, the model file's sha256 and the digest of every file of
// the directory (integrity.TagFilesDigest, on the run too): serve checks
// the files it downloads against these, which live in the registry, not
// beside the files. A version that does not become READY is deleted, so
// nothing half-made stays in the registry.
func (r *recorder) register(ctx context.Context, name, modelDir string, metrics map[string]float64) (*Registration, error) {
	if _, err := r.t.GetOrCreateRegisteredModel(ctx, name); err != nil {
		return nil, fmt.Errorf("register %q: %w", name, err)
	}
	// The directory was uploaded from these files; hash them as they are.
	files, err := integrity.HashDir(modelDir)
	if err != nil {
		return nil, fmt.Errorf("register %q: %w", name, err)
	}
	if err := model.VerifyFiles(modelDir, files); err != nil {
		return nil, fmt.Errorf("register %q: %w", name, err)
	}
	digest := integrity.Digest(files)
	if err := r.t.SetTag(ctx, r.runID, integrity.TagFilesDigest, digest); err != nil {
		return nil, fmt.Errorf("register %q: tag run %s: %w", name, r.runID, err)
	}
	var tags []mlflow.Tag
	for _, k := range []string{"test_auc", "test_gini", "test_ks", "test_brier", "test_log_loss"} {
		if v, ok := metrics[k]; ok {
			tags = append(tags, mlflow.Tag{Key: k, Value: fmt.Sprintf("%.6f", v)})
		}
	}
	tags = append(tags, mlflow.Tag{Key: integrity.TagFilesDigest, Value: digest})
	if f, err := modelFile(modelDir); err == nil {
		tags = append(tags, mlflow.Tag{Key: integrity.TagModelFile, Value: f}, mlflow.Tag{Key: integrity.TagModelSHA256, Value: files[f]})
	}
	req := mlflow.CreateModelVersionRequest{Name: name, Source: strings.TrimRight(r.artifactURI, "/") + "/" + tracking.ModelPath, RunID: r.runID, Tags: tags}
	if lm, err := r.loggedModel(); err != nil {
		return nil, fmt.Errorf("register %q: %w", name, err)
	} else if lm != nil {
		// As MLflow 3 registers a logged model: from models:/<model_id>.
		req.Source, req.ModelID = "models:/"+lm.Info.ModelID, lm.Info.ModelID
	}
	mv, err := r.t.CreateModelVersion(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("register %q: %w", name, err)
	}
	if _, err := r.t.WaitModelVersionReady(ctx, name, mv.Version, registerTimeout); err != nil {
		delCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := r.t.DeleteModelVersion(delCtx, name, mv.Version); derr != nil {
			return nil, fmt.Errorf("register %q version %s: %w (and deleting it failed: %v)", name, mv.Version, err, derr)
		}
		return nil, fmt.Errorf("register %q version %s: %w", name, mv.Version, err)
	}
	return &Registration{Name: name, Version: mv.Version}, nil
}

// modelFile is the main model file of a model directory: the data file of
// its first flavor other than python_function.
func modelFile(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, model.MLmodelFile))
	if err != nil {
		return "", err
	}
	mm, err := model.ParseMLmodel(filepath.Join(dir, model.MLmodelFile), b)
	if err != nil {
		return "", err
	}
	for _, f := range mm.FlavorNames() {
		if f != model.FlavorPyfunc {
			return mm.DataFile(f)
		}
	}
	return "", fmt.Errorf("%s: no model flavor", dir)
}

// datasetName is the name the MLflow UI shows for the run's dataset: the
// file's base name without extension ("german_credit" for the embedded data).
func datasetName(source string) string {
	base := filepath.Base(strings.TrimPrefix(source, "embedded:"))
	return strings.TrimSuffix(base, filepath.Ext(base))
}

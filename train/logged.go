package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/creditrisk/engine/internal/fanout"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/tracking"
)

// A run on a backend with MLflow 3's logged models records its model as
// mlflow.lightgbm.log_model does there: a logged model with the run's
// params and the system tags, its own artifact location holding the model
// directory, the test metrics linked to it and to the evaluation dataset
// (the test split, a dataset input of the run with context "eval"), status
// READY once the files are up, the run's outputs naming it, and versions
// registered from models:/<model_id>. Without logged models (MLflow 2.x
// servers, asked through SupportsLoggedModels) the model directory stays
// under the run's artifacts, as before.

// logged is the run's logged model, made while the model is evaluated.
type logged struct {
	done  chan struct{}
	model *mlflow.LoggedModel // nil on a backend without logged models
	err   error
}

// evalContext is the input tag of the dataset a run's test metrics come
// from, as mlflow.evaluate logs it.
const evalContext = "eval"

// startLogged asks the backend whether it has logged models and, if so,
// creates the logged model, in the background; loggedModel waits for the
// answer. The test metrics are linked to the evaluation dataset that
// startRun logged, if it did (a refit run has none of its own).
func (r *recorder) startLogged(ctx context.Context, params, tags map[string]string) {
	l := &logged{done: make(chan struct{})}
	r.lm = l
	go func() {
		defer close(l.done)
		l.model, l.err = r.createLogged(ctx, params, tags)
	}()
}

func (r *recorder) createLogged(ctx context.Context, params, tags map[string]string) (*mlflow.LoggedModel, error) {
	ok, err := r.t.SupportsLoggedModels(ctx)
	if err != nil || !ok {
		return nil, err
	}
	req := mlflow.CreateLoggedModelRequest{ExperimentID: r.experimentID, Name: tracking.ModelPath, SourceRunID: r.runID}
	for _, k := range sortedKeys(params) {
		req.Params = append(req.Params, mlflow.Param{Key: k, Value: params[k]})
	}
	// The run's system tags (who, from where), as MLflow's resolve_tags
	// gives a logged model.
	for _, k := range sortedKeys(tags) {
		if k == mlflow.TagUser || strings.HasPrefix(k, "mlflow.source.") {
			req.Tags = append(req.Tags, mlflow.Tag{Key: k, Value: tags[k]})
		}
	}
	lm, err := r.t.CreateLoggedModel(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("create logged model: %w", err)
	}
	return lm, nil
}

// loggedModel waits for startLogged: the logged model, or nil when the
// backend has none (or startLogged was not called).
func (r *recorder) loggedModel() (*mlflow.LoggedModel, error) {
	if r == nil || r.lm == nil {
		return nil, nil
	}
	<-r.lm.done
	return r.lm.model, r.lm.err
}

// abandonLogged marks a logged model that will not get its files
// UPLOAD_FAILED, so it does not stay PENDING when the run fails; a model
// already finalized (uploadLogged) is left as it is.
func (r *recorder) abandonLogged(ctx context.Context) {
	lm, err := r.loggedModel()
	if err != nil || lm == nil {
		return
	}
	if cur, err := r.t.GetLoggedModel(ctx, lm.Info.ModelID); err == nil && cur.Info.Status == mlflow.LoggedModelPending {
		r.t.FinalizeLoggedModel(ctx, lm.Info.ModelID, mlflow.LoggedModelUploadFailed) // best effort: the run's error is what matters
	}
}

// linked links a test metric to the logged model and the evaluation
// dataset (if the run has one); without a logged model it is returned as
// it is.
func (r *recorder) linked(m mlflow.Metric) mlflow.Metric {
	if lm, err := r.loggedModel(); err == nil && lm != nil {
		m.ModelID = lm.Info.ModelID
		m.DatasetName, m.DatasetDigest = r.eval.Name, r.eval.Digest
	}
	return m
}

// uploadLogged uploads the model directory to the logged model's artifact
// location and the rest of the run's files to the run, then, once
// metricsIn has returned, links the model to the run as its output and
// marks it READY (UPLOAD_FAILED when the files or metrics did not all
// arrive).
func (r *recorder) uploadLogged(ctx context.Context, lm *mlflow.LoggedModel, outDir string, metricsIn func() error) (err error) {
	defer func() {
		if err == nil {
			return
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, ferr := r.t.FinalizeLoggedModel(fctx, lm.Info.ModelID, mlflow.LoggedModelUploadFailed); ferr != nil {
			err = fmt.Errorf("%w (and marking logged model %s %s failed: %v)", err, lm.Info.ModelID, mlflow.LoggedModelUploadFailed, ferr)
		}
	}()
	run, err := r.t.Artifacts(r.artifactURI)
	if err != nil {
		return fmt.Errorf("artifact store %s: %w", r.artifactURI, err)
	}
	store, err := r.t.Artifacts(lm.Info.ArtifactURI)
	if err != nil {
		return fmt.Errorf("artifact store %s: %w", lm.Info.ArtifactURI, err)
	}
	ents, err := os.ReadDir(outDir)
	if err != nil {
		return fmt.Errorf("upload artifacts: %w", err)
	}
	// Every entry goes up at once, the model directory to its own store:
	// one after another, each waited out the store's round trips.
	err = fanout.Each(len(ents), len(ents), func(i int) error {
		name := ents[i].Name()
		p := filepath.Join(outDir, name)
		var err error
		switch {
		case name == tracking.ModelPath:
			if err = store.UploadDir(ctx, p, ""); err != nil {
				err = fmt.Errorf("upload model to %s: %w", lm.Info.ArtifactURI, err)
			}
		case ents[i].IsDir():
			err = run.UploadDir(ctx, p, name)
		default:
			err = run.Upload(ctx, p, name)
		}
		if err != nil && name != tracking.ModelPath {
			err = fmt.Errorf("upload artifacts to %s: %w", r.artifactURI, err)
		}
		return err
	})
	if merr := metricsIn(); merr != nil {
		err = errors.Join(merr, err)
	}
	if err != nil {
		return err
	}
	if err := r.t.LogOutputs(ctx, r.runID, []mlflow.LoggedModelOutput{{ModelID: lm.Info.ModelID}}); err != nil {
		return err
	}
	if _, err := r.t.FinalizeLoggedModel(ctx, lm.Info.ModelID, mlflow.LoggedModelReady); err != nil {
		return err
	}
	return nil
}

// sourceJSON is a dataset's source as MLflow's local dataset source writes
// it: {"uri": path}.
func sourceJSON(cfg Config) string {
	src := cfg.Data.Path
	if src == "" {
		src = "embedded:german_credit.csv"
	} else if abs, err := filepath.Abs(src); err == nil {
		src = abs
	}
	b, _ := json.Marshal(map[string]string{"uri": src})
	return string(b)
}

package train

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/tracking"
)

// Refit is the final model of a run with Split.Refit: trained on every
// row, so it has no test split of its own. Its evidence is the split run's:
// its run carries that run's test metrics under split_run/ and its
// evaluation.json, and no holdout (its rows are in the training data, so a
// promotion against a champion needs a fresh holdout file).
type Refit struct {
	RunID      string `json:"run_id,omitempty"`
	ModelURI   string `json:"model_uri"`
	ModelDir   string `json:"model_dir,omitempty"`
	Rows       int    `json:"rows"`
	Iterations int    `json:"iterations,omitempty"`
}

// refitPrefix names the split run's test metrics on the refit run.
const refitPrefix = "split_run/"

// refit trains the final model on every row of table with the split run's
// choices (boosting stops at its best iteration: there is no validation
// split left to stop early on), saves and, with tracking, records it as a
// run of its own, a child of the split run. The recorder of the refit run
// comes back for registration.
func refit(ctx context.Context, cfg Config, opts Options, split *Result, table *data.Table, params map[string]string) (*Refit, *recorder, error) {
	p := maps.Clone(params)
	if split.BestIteration > 0 {
		p["num_iterations"] = strconv.Itoa(split.BestIteration)
		p["early_stopping_round"] = "0"
		delete(p, "n_estimators") // aliases of the two, if given
		delete(p, "early_stopping_rounds")
	}
	m, err := model.Train(ctx, cfg.Model.Family, table, nil, model.TrainOptions{Params: p})
	if err != nil {
		return nil, nil, fmt.Errorf("refit on all %d rows: %w", table.Rows(), err)
	}
	out := filepath.Join(opts.OutDir, "refit")
	r := &Refit{ModelDir: filepath.Join(out, tracking.ModelPath), Rows: table.Rows(), Iterations: split.BestIteration}
	r.ModelURI = r.ModelDir
	if err := os.MkdirAll(out, 0o777); err != nil {
		return nil, nil, fmt.Errorf("refit: %w", err)
	}
	// The evaluation is the split run's, as the refit run's evidence.
	if b, err := os.ReadFile(filepath.Join(opts.OutDir, tracking.EvaluationFile)); err == nil {
		if err := os.WriteFile(filepath.Join(out, tracking.EvaluationFile), b, 0o666); err != nil {
			return nil, nil, fmt.Errorf("refit: %w", err)
		}
	}
	if opts.Tracking == nil {
		return r, nil, saveModel(r.ModelDir, m, table, split.testScores, nil)
	}

	rcfg := cfg
	rcfg.Tracking.RunName = cfg.Tracking.RunName
	if rcfg.Tracking.RunName != "" {
		rcfg.Tracking.RunName += "-refit"
	}
	rcfg.Tracking.Description = fmt.Sprintf("The final model, refit on all %d rows with the choices of split run %s "+
		"(%d iterations). It has no test split of its own: its %s metrics and evaluation.json are the split run's, "+
		"measured on rows this model was trained on afterwards.", table.Rows(), split.RunID, split.BestIteration, refitPrefix)
	tags := maps.Clone(opts.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	tags[mlflow.TagParentRunID] = split.RunID
	tags["pipeline.refit_of"] = split.RunID
	digest := table.Digest()
	rec, err := startRun(ctx, opts.Tracking, rcfg, table, digest, nil, tags)
	if err != nil {
		return nil, nil, fmt.Errorf("refit: %w", err)
	}
	r.RunID = rec.runID
	err = func() error {
		params := runParams(rcfg, table, digest, m, SplitSizes{Train: table.Rows()})
		params["refit_of"] = split.RunID
		// The final model is a logged model too where the backend has them
		// (logged.go), with no evaluation dataset of its own.
		rec.startLogged(ctx, params, tags)
		if err := saveModel(r.ModelDir, m, table, split.testScores, rec); err != nil {
			return err
		}
		if err := rec.logTraining(ctx, params, nil); err != nil {
			return err
		}
		evidence := map[string]float64{}
		for k, v := range split.Metrics {
			evidence[refitPrefix+k] = v
		}
		if err := rec.logResults(ctx, out, evidence); err != nil {
			return err
		}
		r.ModelURI = "runs:/" + rec.runID + "/" + tracking.ModelPath
		if lm, _ := rec.loggedModel(); lm != nil {
			r.ModelURI = "models:/" + lm.Info.ModelID
		}
		return rec.logModel(ctx, r.ModelDir)
	}()
	if err = rec.finish(ctx, err); err != nil {
		return nil, nil, fmt.Errorf("refit: %w", err)
	}
	return r, rec, nil
}

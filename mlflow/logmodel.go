package mlflow

import (
	"context"
	"encoding/json"
	"fmt"
)

// LogModel records a logged model in the run's mlflow.log-model.history tag,
// as MLflow 2.x's log_model does; m is the entry's JSON (run_id,
// artifact_path, utc_time_created, model_uuid, flavors).
// https://mlflow.org/docs/latest/api_reference/rest-api.html#log-model
func (c *Client) LogModel(ctx context.Context, runID string, m json.RawMessage) error {
	in := struct {
		RunID     string `json:"run_id"`
		ModelJSON string `json:"model_json"`
	}{runID, string(m)}
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/runs/log-model", in, nil); err != nil {
		return fmt.Errorf("log model of run %s: %w", runID, err)
	}
	return nil
}

// DeleteModelVersion deletes one version of a registered model.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#delete-modelversion
func (c *Client) DeleteModelVersion(ctx context.Context, name, version string) error {
	in := struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}{name, version}
	if err := c.do(ctx, "DELETE", "/api/2.0/mlflow/model-versions/delete", in, nil); err != nil {
		return fmt.Errorf("delete version %s of model %q: %w", version, name, err)
	}
	return nil
}

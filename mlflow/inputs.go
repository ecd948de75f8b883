package mlflow

import (
	"context"
	"fmt"
)

// Dataset describes data a run used, as MLflow's dataset entity.
type Dataset struct {
	Name       string `json:"name"`             // ≤500 characters
	Digest     string `json:"digest"`           // ≤36 characters, e.g. 8 hex of a hash
	SourceType string `json:"source_type"`      // "local", "s3", "http", …
	Source     string `json:"source"`           // JSON, e.g. {"uri": "data/german_credit.csv"}
	Schema     string `json:"schema,omitempty"` // JSON, e.g. {"mlflow_colspec": [...]}
	Profile    string `json:"profile,omitempty"`
}

// DatasetInput is a dataset with input tags such as mlflow.data.context.
type DatasetInput struct {
	Tags    []Tag   `json:"tags,omitempty"`
	Dataset Dataset `json:"dataset"`
}

// LogInputs records the datasets a run used. The server stores each
// (name, digest) dataset once per experiment and each run link once, so
// replaying the call does not duplicate.
func (c *Client) LogInputs(ctx context.Context, runID string, inputs []DatasetInput) error {
	for i, in := range inputs {
		if err := ValidateDatasetInput(in); err != nil {
			return fmt.Errorf("log inputs to run %s: dataset %d: %w", runID, i, err)
		}
	}
	req := struct {
		RunID    string         `json:"run_id"`
		Datasets []DatasetInput `json:"datasets"`
	}{runID, inputs}
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/runs/log-inputs", req, nil); err != nil {
		return fmt.Errorf("log inputs to run %s: %w", runID, err)
	}
	return nil
}

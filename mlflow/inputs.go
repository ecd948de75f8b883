package mlflow

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"
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

// Limits from mlflow/utils/validation.py; the schema limit is 2.9's (3.x
// takes 1 MiB).
const (
	maxDatasetName    = 500
	maxDatasetDigest  = 36
	maxDatasetSource  = 65535
	maxDatasetSchema  = 65535
	maxDatasetProfile = 16777215
	maxInputTagKey    = 255
	maxInputTagValue  = 500
)

// LogInputs records the datasets a run used. The server stores each
// (name, digest) dataset once per experiment and each run link once, so
// replaying the call does not duplicate.
func (c *Client) LogInputs(ctx context.Context, runID string, inputs []DatasetInput) error {
	for i, in := range inputs {
		if err := validateDatasetInput(in); err != nil {
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

func validateDatasetInput(in DatasetInput) error {
	d := in.Dataset
	for _, f := range []struct {
		name, value string
		max         int
		required    bool
	}{
		{"name", d.Name, maxDatasetName, true},
		{"digest", d.Digest, maxDatasetDigest, true},
		{"source_type", d.SourceType, maxDatasetSource, true},
		{"source", d.Source, maxDatasetSource, true},
		{"schema", d.Schema, maxDatasetSchema, false},
		{"profile", d.Profile, maxDatasetProfile, false},
	} {
		if f.required && f.value == "" {
			return fmt.Errorf("dataset %q: %s is required", d.Name, f.name)
		}
		if n := utf8.RuneCountInString(f.value); n > f.max {
			return fmt.Errorf("dataset %q: %s is %d characters long; the limit is %d", d.Name, f.name, n, f.max)
		}
	}
	for _, t := range in.Tags {
		if t.Key == "" {
			return errors.New("input tag with an empty key")
		}
		if n := utf8.RuneCountInString(t.Key); n > maxInputTagKey {
			return fmt.Errorf("input tag key %q is %d characters long; the limit is %d", t.Key, n, maxInputTagKey)
		}
		if n := utf8.RuneCountInString(t.Value); n > maxInputTagValue {
			return fmt.Errorf("input tag %q: value is %d characters long; the limit is %d", t.Key, n, maxInputTagValue)
		}
	}
	return nil
}

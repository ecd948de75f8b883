package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/mlflow/filestore"
)

// tracking opens the tracking store the environment names, as MLflow's
// Python client reads it: the server at MLFLOW_TRACKING_URI, or, when the
// variable is unset or a file: URI, a local store in MLflow's file-store
// layout (./mlruns by default). Exactly one of the two results is set.
func tracking() (*mlflow.Client, *filestore.Store, error) {
	uri := os.Getenv("MLFLOW_TRACKING_URI")
	if uri == "" || strings.HasPrefix(uri, "file:") {
		if uri == "" {
			uri = "mlruns"
		}
		store, err := filestore.Open(uri)
		if err != nil {
			return nil, nil, fmt.Errorf("local tracking store %s: %w", uri, err)
		}
		return nil, store, nil
	}
	client, err := mlflow.NewClientFromEnv()
	if err != nil {
		return nil, nil, usageError("MLFLOW_TRACKING_URI: %v", err)
	}
	return client, nil, nil
}

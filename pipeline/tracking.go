package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/promote"
)

// tracking opens the tracking store the environment names, as MLflow's
// Python client reads it: the server at MLFLOW_TRACKING_URI, or, when the
// variable is unset or a file: URI, a local store in MLflow's file-store
// layout (./mlruns by default). Exactly one of the two results is set.
func tracking(opts ...mlflow.Option) (*mlflow.Client, *filestore.Store, error) {
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
	client, err := mlflow.NewClientFromEnv(opts...)
	if err != nil {
		return nil, nil, usageError("MLFLOW_TRACKING_URI: %v", err)
	}
	return client, nil, nil
}

// openRegistry opens the model registry of the environment for promote,
// rollback, models and serve: the tracking server's, or the local file
// store's.
func openRegistry(opts ...mlflow.Option) (promote.Registry, error) {
	client, local, err := tracking(opts...)
	if err != nil {
		return nil, err
	}
	if local != nil {
		return local, nil
	}
	return client, nil
}

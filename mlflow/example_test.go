package mlflow_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/creditrisk/engine/mlflow"
)

// A training run logged the way the Python client's fluent API would.
func Example() {
	ctx := context.Background()
	c, err := mlflow.NewClientFromEnv(os.Getenv) // MLFLOW_TRACKING_URI, credentials, retries
	if err != nil {
		log.Fatal(err)
	}
	exp, err := c.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "credit-risk"})
	if err != nil {
		log.Fatal(err)
	}
	run, err := c.CreateRun(ctx, mlflow.CreateRunRequest{
		ExperimentID: exp.ID,
		RunName:      "gbdt-baseline",
		Tags:         mlflow.SourceFromEnv(os.Getenv).Tags(), // mlflow.user, mlflow.source.*
	})
	if err != nil {
		log.Fatal(err)
	}
	b := mlflow.Batch{Params: []mlflow.Param{{Key: "num_leaves", Value: "31"}}}
	for step := range 500 {
		b.Metrics = append(b.Metrics, mlflow.Metric{Key: "valid_auc", Value: 0.7, Step: int64(step)})
	}
	// One call per 1000 entities; params are sent once.
	if err := c.LogBatch(ctx, run.Info.RunID, b); err != nil {
		log.Fatal(err)
	}
	if err := c.TerminateRun(ctx, run.Info.RunID, mlflow.RunFinished); err != nil {
		log.Fatal(err)
	}
}

func ExampleAPIError() {
	err := error(&mlflow.APIError{StatusCode: 400, Code: "RESOURCE_ALREADY_EXISTS", Message: "Experiment 'x' already exists.", Method: "POST", Path: "/api/2.0/mlflow/experiments/create"})
	fmt.Println(errors.Is(err, mlflow.ErrAlreadyExists))
	fmt.Println(err)
	// Output:
	// true
	// mlflow: POST /api/2.0/mlflow/experiments/create: HTTP 400 RESOURCE_ALREADY_EXISTS: Experiment 'x' already exists.
}

package mlflow_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/creditrisk/engine/mlflow"
)

// Registering a run's model and pointing the "challenger" alias at it.
func ExampleClient_CreateModelVersion() {
	ctx := context.Background()
	c, err := mlflow.NewClientFromEnv(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	run, err := c.GetRun(ctx, "0123456789abcdef0123456789abcdef")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.GetOrCreateRegisteredModel(ctx, "credit-risk"); err != nil {
		log.Fatal(err)
	}
	mv, err := c.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{
		Name:   "credit-risk",
		Source: run.Info.ArtifactURI + "/model",
		RunID:  run.Info.RunID,
		Tags:   []mlflow.Tag{{Key: "auc", Value: "0.79"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.WaitModelVersionReady(ctx, mv.Name, mv.Version, time.Minute); err != nil {
		log.Fatal(err)
	}
	if err := c.SetRegisteredModelAlias(ctx, mv.Name, "challenger", mv.Version); err != nil {
		log.Fatal(err)
	}
	fmt.Println("registered version", mv.Version)
}

// Reading the champion; a missing alias matches mlflow.ErrNotFound.
func ExampleClient_GetModelVersionByAlias() {
	ctx := context.Background()
	c, err := mlflow.NewClientFromEnv(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	mv, err := c.GetModelVersionByAlias(ctx, "credit-risk", "champion")
	if err != nil {
		log.Fatal(err)
	}
	uri, err := c.GetModelVersionDownloadURI(ctx, mv.Name, mv.Version)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(mv.Version, uri)
}

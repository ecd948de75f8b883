package artifact_test

import (
	"context"
	"fmt"
	"log"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/mlflow"
)

// Uploading a model directory to a run: the run's artifact URI picks the
// store (s3:// here, with MLFLOW_S3_ENDPOINT_URL and AWS_* set).
func ExampleOpen() {
	ctx := context.Background()
	c, err := mlflow.NewClientFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	run, err := c.GetRun(ctx, "0123456789abcdef0123456789abcdef")
	if err != nil {
		log.Fatal(err)
	}
	st, err := artifact.Open(run.Info.ArtifactURI, c)
	if err != nil {
		log.Fatal(err)
	}
	if err := st.UploadDir(ctx, "out/model", "model"); err != nil {
		log.Fatal(err)
	}
	files, err := st.List(ctx, "model")
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		fmt.Println(f.Path, f.IsDir, f.Size)
	}
}

// Downloading the version a registry alias points at.
func ExampleResolve() {
	ctx := context.Background()
	c, err := mlflow.NewClientFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	uri, err := artifact.Resolve(ctx, c, "models:/credit-risk@champion")
	if err != nil {
		log.Fatal(err)
	}
	st, err := artifact.Open(uri, c)
	if err != nil {
		log.Fatal(err)
	}
	if err := st.Download(ctx, "", "/var/lib/serve/model"); err != nil {
		log.Fatal(err)
	}
}

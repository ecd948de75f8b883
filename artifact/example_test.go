package artifact_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/mlflow"
)

// Uploading a model directory to a run: the run's artifact URI picks the
// store (s3:// here, configured from MLFLOW_S3_ENDPOINT_URL and AWS_*).
func ExampleOpen() {
	ctx := context.Background()
	c, err := mlflow.NewClientFromEnv(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	run, err := c.GetRun(ctx, "0123456789abcdef0123456789abcdef")
	if err != nil {
		log.Fatal(err)
	}
	st, err := artifact.Open(run.Info.ArtifactURI, artifact.Config{S3: s3.EnvConfig(os.Getenv), Proxy: c})
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

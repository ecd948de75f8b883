package artifact

import (
	"context"
	"fmt"

	"github.com/creditrisk/engine/mlflow"
)

// Fetch copies the artifacts a URI names — a runs:/ or models:/ reference,
// or a store URI — into the local directory dst. c may be nil for store
// URIs that need no tracking server (s3://, file:).
func Fetch(ctx context.Context, c *mlflow.Client, uri, dst string) error {
	root, err := Resolve(ctx, c, uri)
	if err != nil {
		return err
	}
	store, err := Open(root, c)
	if err != nil {
		return fmt.Errorf("open %s: %w", root, err)
	}
	if err := store.Download(ctx, "", dst); err != nil {
		return fmt.Errorf("download %s: %w", root, err)
	}
	return nil
}

package artifact

import (
	"context"
	"fmt"

	"github.com/creditrisk/engine/mlflow"
)

// Fetch copies the artifacts a URI names — a runs:/ or models:/ reference,
// or a store URI — into the local directory dst. r resolves references
// (nil for store URIs); c, when r is a tracking server's client, also
// reaches mlflow-artifacts: stores through it.
func Fetch(ctx context.Context, r Resolver, uri, dst string) error {
	root, err := Resolve(ctx, r, uri)
	if err != nil {
		return err
	}
	c, _ := r.(*mlflow.Client)
	store, err := Open(root, c)
	if err != nil {
		return fmt.Errorf("open %s: %w", root, err)
	}
	if err := store.Download(ctx, "", dst); err != nil {
		return fmt.Errorf("download %s: %w", root, err)
	}
	return nil
}

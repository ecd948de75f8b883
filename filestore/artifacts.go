package filestore

import (
	"context"
	"fmt"
	"strings"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/artifact/file"
	"github.com/creditrisk/engine/mlflow"
)

// RunArtifactURI returns the root of a run's artifacts (its artifact_uri).
func (s *Store) RunArtifactURI(ctx context.Context, runID string) (string, error) {
	r, err := s.GetRun(ctx, runID)
	if err != nil {
		return "", err
	}
	return r.Info.ArtifactURI, nil
}

// ListArtifacts lists the artifacts of a run directly under path ("" for
// the root); paths are relative to the run's artifact root.
func (s *Store) ListArtifacts(ctx context.Context, runID, path string) ([]mlflow.FileInfo, error) {
	uri, err := s.RunArtifactURI(ctx, runID)
	if err != nil {
		return nil, err
	}
	st, err := file.New(uri)
	if err != nil {
		return nil, fmt.Errorf("artifacts of run %s: %w", runID, err)
	}
	fi, err := st.List(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("artifacts of run %s: %w", runID, err)
	}
	return fi, nil
}

// Artifacts opens the local artifact store at uri (a run's
// artifact_uri). Only file: URIs and local paths are accepted: a file store
// keeps its artifacts on this machine.
func (s *Store) Artifacts(uri string) (artifact.Store, error) {
	if i := strings.Index(uri, ":"); i > 1 && !strings.HasPrefix(uri, "file:") {
		return nil, fmt.Errorf("artifact store %s: a file store keeps artifacts in local files (file: URIs) only", uri)
	}
	st, err := file.New(uri)
	if err != nil {
		return nil, fmt.Errorf("artifact store %s: %w", uri, err)
	}
	return st, nil
}

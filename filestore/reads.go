package filestore

import (
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"sort"

	"github.com/creditrisk/engine/artifact/file"
	"github.com/creditrisk/engine/mlflow"
)

// The calls promote and serve make besides the Tracker's, with the
// signatures of *mlflow.Client's.

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

// GetModelVersionDownloadURI returns where the files of a version are:
// its storage_location, else its source, as MLflow's file store answers.
func (s *Store) GetModelVersionDownloadURI(ctx context.Context, name, version string) (string, error) {
	vdir, _, err := s.version(name, version)
	if err != nil {
		return "", err
	}
	var m versionMeta
	if err := readYAML(filepath.Join(vdir, metaFile), &m); err != nil {
		return "", fmt.Errorf("model %q version %s: %w", name, version, err)
	}
	if m.StorageLocation != "" {
		return string(m.StorageLocation), nil
	}
	return m.Source, nil
}

// TransitionModelVersionStage moves a version to stage. With
// archiveExisting, the other versions in stage (Staging or Production
// only) move to Archived.
func (s *Store) TransitionModelVersionStage(ctx context.Context, name, version, stage string, archiveExisting bool) (*mlflow.ModelVersion, error) {
	st, err := mlflow.CanonicalStage(stage)
	if err != nil {
		return nil, fmt.Errorf("move model %q version %s: %w", name, version, err)
	}
	if archiveExisting && st != mlflow.StageStaging && st != mlflow.StageProduction {
		return nil, fmt.Errorf("move model %q version %s: archiving existing versions needs stage Staging or Production, not %s: %w", name, version, st, mlflow.ErrInvalidParameter)
	}
	err = s.locked(ctx, func() error {
		vdir, _, err := s.version(name, version)
		if err != nil {
			return err
		}
		dir := filepath.Dir(vdir)
		now := s.now().UnixMilli()
		if archiveExisting {
			vs, err := s.versions(dir)
			if err != nil {
				return err
			}
			for _, v := range vs {
				if v.Version == version || v.CurrentStage != st {
					continue
				}
				if err := s.rewriteVersion(filepath.Join(dir, versionPrefix+v.Version), func(m *versionMeta) {
					m.CurrentStage, m.LastUpdatedTimestamp = mlflow.StageArchived, now
				}); err != nil {
					return err
				}
			}
		}
		if err := s.rewriteVersion(vdir, func(m *versionMeta) { m.CurrentStage, m.LastUpdatedTimestamp = st, now }); err != nil {
			return err
		}
		return s.touchModel(dir)
	})
	if err != nil {
		return nil, fmt.Errorf("move model %q version %s to stage %s: %w", name, version, st, err)
	}
	return s.GetModelVersion(ctx, name, version)
}

// rewriteVersion changes a version's meta.yaml; the caller holds the lock.
func (s *Store) rewriteVersion(vdir string, change func(*versionMeta)) error {
	var m versionMeta
	if err := readYAML(filepath.Join(vdir, metaFile), &m); err != nil {
		return err
	}
	change(&m)
	return s.writeFile(filepath.Join(vdir, metaFile), m.yaml().marshal())
}

// SearchRegisteredModels returns one page of registered models by name.
// Only the empty filter and name='…' are supported.
func (s *Store) SearchRegisteredModels(ctx context.Context, req mlflow.SearchRegisteredModelsRequest) (*mlflow.RegisteredModelsPage, error) {
	if len(req.OrderBy) > 0 {
		return nil, fmt.Errorf("search registered models: the file store supports no order_by (got %q): %w", req.OrderBy, mlflow.ErrInvalidParameter)
	}
	vf, err := parseVersionFilter(req.Filter)
	if err != nil || vf.runID != nil {
		return nil, fmt.Errorf("search registered models: filter %q: only name='…' is supported: %w", req.Filter, mlflow.ErrInvalidParameter)
	}
	if err := s.ensure(ctx); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(s.root, modelsDir))
	if err != nil {
		return nil, fmt.Errorf("search registered models: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && (vf.name == nil || e.Name() == *vf.name) {
			if _, err := os.Stat(filepath.Join(s.root, modelsDir, e.Name(), metaFile)); err == nil {
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names)
	page, next, err := pageOf(len(names), req.MaxResults, req.PageToken)
	if err != nil {
		return nil, fmt.Errorf("search registered models: %w", err)
	}
	out := &mlflow.RegisteredModelsPage{NextPageToken: next}
	for _, n := range names[page[0]:page[1]] {
		rm, err := s.GetRegisteredModel(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("search registered models: %w", err)
		}
		out.RegisteredModels = append(out.RegisteredModels, *rm)
	}
	return out, nil
}

// AllRegisteredModels yields every registered model matching req, following
// page tokens from req.PageToken on. It stops after the first error.
func (s *Store) AllRegisteredModels(ctx context.Context, req mlflow.SearchRegisteredModelsRequest) iter.Seq2[mlflow.RegisteredModel, error] {
	return mlflow.Paginate(req.PageToken, func(token string) ([]mlflow.RegisteredModel, string, error) {
		req.PageToken = token
		page, err := s.SearchRegisteredModels(ctx, req)
		if err != nil {
			return nil, "", err
		}
		return page.RegisteredModels, page.NextPageToken, nil
	})
}

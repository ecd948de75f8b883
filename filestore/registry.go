package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/creditrisk/engine/mlflow"
)

// Stages of model versions; deleted versions keep their folder (so their
// number is never reused) with this stage, as in MLflow.
const (
	stageDeletedInternal = "Deleted_Internal"
	statusReady          = "READY"
)

func validateModelName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return fmt.Errorf("registered model name %q: must be non-empty, not start with a dot and hold no path separator: %w", name, mlflow.ErrInvalidParameter)
	}
	return nil
}

func (s *Store) modelDir(name string) (string, error) {
	if err := validateModelName(name); err != nil {
		return "", err
	}
	if err := s.ensure(context.Background()); err != nil {
		return "", err
	}
	return filepath.Join(s.root, modelsDir, name), nil
}

type modelMeta struct {
	CreationTimestamp    int64     `yaml:"creation_timestamp"`
	Description          optString `yaml:"description"`
	LastUpdatedTimestamp int64     `yaml:"last_updated_timestamp"`
	Name                 string    `yaml:"name"`
}

func (v *versionMeta) yaml() yamlMap {
	n, _ := strconv.ParseInt(string(v.Version), 10, 64)
	y := yamlMap{
		"aliases": []string{}, "creation_timestamp": v.CreationTimestamp, "current_stage": v.CurrentStage,
		"description": nullable(string(v.Description)), "last_updated_timestamp": v.LastUpdatedTimestamp,
		"name": v.Name, "run_id": nullable(string(v.RunID)), "run_link": nullable(string(v.RunLink)),
		"source": v.Source, "status": nullable(string(v.Status)), "status_message": nullable(string(v.StatusMessage)),
		"storage_location": nullable(string(v.StorageLocation)), "user_id": nullable(string(v.UserID)),
		"version": n,
	}
	if v.ModelID != "" {
		y["model_id"] = string(v.ModelID)
	}
	return y
}

// writeModelMeta (re)writes a registered model's meta.yaml; MLflow keeps
// a copy of the aliases there too, the aliases/ files being the truth.
func (s *Store) writeModelMeta(dir string, m *modelMeta) error {
	aliases, err := readTree(filepath.Join(dir, aliasesDir))
	if err != nil {
		return err
	}
	y := yamlMap{"aliases": aliases, "creation_timestamp": m.CreationTimestamp,
		"description": nullable(string(m.Description)), "last_updated_timestamp": m.LastUpdatedTimestamp, "name": m.Name}
	return s.writeFile(filepath.Join(dir, metaFile), y.marshal())
}

// touchModel sets a model's last_updated_timestamp; the caller holds the
// lock.
func (s *Store) touchModel(dir string) error {
	var m modelMeta
	if err := readYAML(filepath.Join(dir, metaFile), &m); err != nil {
		return err
	}
	m.LastUpdatedTimestamp = s.now().UnixMilli()
	return s.writeModelMeta(dir, &m)
}

// GetOrCreateRegisteredModel returns the registered model, creating it if
// it does not exist. Concurrent callers, also in other processes, get the
// same model.
func (s *Store) GetOrCreateRegisteredModel(ctx context.Context, name string) (*mlflow.RegisteredModel, error) {
	dir, err := s.modelDir(name)
	if err != nil {
		return nil, err
	}
	err = s.locked(ctx, func() error {
		if _, err := os.Stat(filepath.Join(dir, metaFile)); err == nil {
			return nil
		}
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		now := s.now().UnixMilli()
		return s.writeModelMeta(dir, &modelMeta{CreationTimestamp: now, LastUpdatedTimestamp: now, Name: name})
	})
	if err != nil {
		return nil, fmt.Errorf("registered model %q: %w", name, err)
	}
	return s.GetRegisteredModel(ctx, name)
}

// GetRegisteredModel returns a registered model with its latest version
// per stage, tags and aliases.
func (s *Store) GetRegisteredModel(ctx context.Context, name string) (*mlflow.RegisteredModel, error) {
	dir, err := s.modelDir(name)
	if err != nil {
		return nil, err
	}
	var m modelMeta
	if err := readYAML(filepath.Join(dir, metaFile), &m); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("registered model %q: %w", name, mlflow.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("registered model %q: %w", name, err)
	}
	rm := &mlflow.RegisteredModel{Name: m.Name, CreationTimestamp: m.CreationTimestamp,
		LastUpdatedTimestamp: m.LastUpdatedTimestamp, Description: string(m.Description)}
	tags, err := readTree(filepath.Join(dir, tagsDir))
	if err != nil {
		return nil, fmt.Errorf("registered model %q: %w", name, err)
	}
	rm.Tags = sortedTags(tags)
	aliases, err := readTree(filepath.Join(dir, aliasesDir))
	if err != nil {
		return nil, fmt.Errorf("registered model %q: %w", name, err)
	}
	for _, t := range sortedTags(aliases) {
		rm.Aliases = append(rm.Aliases, mlflow.ModelAlias{Alias: t.Key, Version: t.Value})
	}
	if rm.LatestVersions, err = s.GetLatestVersions(ctx, name); err != nil {
		return nil, err
	}
	return rm, nil
}

// SetRegisteredModelTag sets (or overwrites) a tag of a registered model.
func (s *Store) SetRegisteredModelTag(ctx context.Context, name, key, value string) error {
	if err := mlflow.ValidateTag(key, value); err != nil {
		return fmt.Errorf("tag registered model %q: %w", name, err)
	}
	dir, err := s.modelDir(name)
	if err != nil {
		return err
	}
	return s.locked(ctx, func() error {
		if _, err := s.GetRegisteredModel(ctx, name); err != nil {
			return err
		}
		if err := s.writeFile(join(filepath.Join(dir, tagsDir), key), []byte(value)); err != nil {
			return fmt.Errorf("tag registered model %q: %w", name, err)
		}
		return s.touchModel(dir)
	})
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
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && (vf.name == nil || e.Name() == *vf.name) {
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

// DeleteRegisteredModel deletes a registered model with its versions,
// aliases and tags, as MLflow's file store does (the folder goes; version
// numbers start again at 1 if the name is registered anew).
func (s *Store) DeleteRegisteredModel(ctx context.Context, name string) error {
	dir, err := s.modelDir(name)
	if err != nil {
		return fmt.Errorf("delete registered model %q: %w", name, err)
	}
	err = s.locked(ctx, func() error {
		if _, err := os.Stat(filepath.Join(dir, metaFile)); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("registered model %q: %w", name, mlflow.ErrNotFound)
		}
		// Renamed first, so a reader never sees half a model.
		gone := filepath.Join(s.root, modelsDir, tmpPrefix+"deleted-"+strconv.FormatInt(s.now().UnixNano(), 36))
		if err := os.Rename(dir, gone); err != nil {
			return err
		}
		return os.RemoveAll(gone)
	})
	if err != nil {
		return fmt.Errorf("delete registered model %q: %w", name, err)
	}
	return nil
}

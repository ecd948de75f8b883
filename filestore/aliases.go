package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/creditrisk/engine/mlflow"
)

// SetRegisteredModelAlias points alias at a version, moving it if it
// already points elsewhere.
func (s *Store) SetRegisteredModelAlias(ctx context.Context, name, alias, version string) error {
	if err := mlflow.ValidateAlias(alias); err != nil {
		return fmt.Errorf("set alias of %q: %w", name, err)
	}
	err := s.locked(ctx, func() error {
		vdir, _, err := s.version(name, version)
		if err != nil {
			return err
		}
		dir := filepath.Dir(vdir)
		if err := s.writeFile(filepath.Join(dir, aliasesDir, alias), []byte(version)); err != nil {
			return err
		}
		return s.touchModel(dir)
	})
	if err != nil {
		return fmt.Errorf("set alias %s of %q to version %s: %w", alias, name, version, err)
	}
	return nil
}

// DeleteRegisteredModelAlias removes an alias; a missing alias is no error,
// as in MLflow's file store.
func (s *Store) DeleteRegisteredModelAlias(ctx context.Context, name, alias string) error {
	if err := mlflow.ValidateAlias(alias); err != nil {
		return fmt.Errorf("delete alias of %q: %w", name, err)
	}
	dir, err := s.modelDir(name)
	if err != nil {
		return err
	}
	err = s.locked(ctx, func() error {
		if _, err := os.Stat(filepath.Join(dir, metaFile)); err != nil {
			return fmt.Errorf("registered model %q: %w", name, mlflow.ErrNotFound)
		}
		err := os.Remove(filepath.Join(dir, aliasesDir, alias))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		return s.touchModel(dir)
	})
	if err != nil {
		return fmt.Errorf("delete alias %s of %q: %w", alias, name, err)
	}
	return nil
}

// GetModelVersionByAlias returns the version an alias points at. A missing
// alias gives an *mlflow.AliasNotFoundError (errors.Is(err,
// mlflow.ErrNotFound) holds).
func (s *Store) GetModelVersionByAlias(ctx context.Context, name, alias string) (*mlflow.ModelVersion, error) {
	if err := mlflow.ValidateAlias(alias); err != nil {
		return nil, fmt.Errorf("alias of %q: %w", name, err)
	}
	dir, err := s.modelDir(name)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, metaFile)); err != nil {
		return nil, fmt.Errorf("registered model %q: %w", name, mlflow.ErrNotFound)
	}
	b, err := os.ReadFile(filepath.Join(dir, aliasesDir, alias))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &mlflow.AliasNotFoundError{Name: name, Alias: alias, Message: fmt.Sprintf("Registered model alias %s not found.", alias)}
	} else if err != nil {
		return nil, fmt.Errorf("alias %s of %q: %w", alias, name, err)
	}
	return s.GetModelVersion(ctx, name, strings.TrimSpace(string(b)))
}

package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/creditrisk/engine/mlflow"
)

// Stages of model versions; deleted versions keep their folder (so their
// number is never reused) with this stage, as in MLflow.
const (
	stageDeletedInternal = "Deleted_Internal"
	statusReady          = "READY"
)

var versionPattern = regexp.MustCompile(`^[1-9][0-9]*$`)

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

type versionMeta struct {
	CreationTimestamp    int64     `yaml:"creation_timestamp"`
	CurrentStage         string    `yaml:"current_stage"`
	Description          optString `yaml:"description"`
	LastUpdatedTimestamp int64     `yaml:"last_updated_timestamp"`
	Name                 string    `yaml:"name"`
	RunID                optString `yaml:"run_id"`
	RunLink              optString `yaml:"run_link"`
	Source               string    `yaml:"source"`
	Status               optString `yaml:"status"`
	StatusMessage        optString `yaml:"status_message"`
	StorageLocation      optString `yaml:"storage_location"`
	UserID               optString `yaml:"user_id"`
	Version              idString  `yaml:"version"`
}

func (v *versionMeta) yaml() yamlMap {
	n, _ := strconv.ParseInt(string(v.Version), 10, 64)
	return yamlMap{
		"aliases": []string{}, "creation_timestamp": v.CreationTimestamp, "current_stage": v.CurrentStage,
		"description": nullable(string(v.Description)), "last_updated_timestamp": v.LastUpdatedTimestamp,
		"name": v.Name, "run_id": nullable(string(v.RunID)), "run_link": nullable(string(v.RunLink)),
		"source": v.Source, "status": nullable(string(v.Status)), "status_message": nullable(string(v.StatusMessage)),
		"storage_location": nullable(string(v.StorageLocation)), "user_id": nullable(string(v.UserID)),
		"version": n,
	}
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
		if err := os.MkdirAll(dir, 0o755); err != nil {
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

// versions reads every version folder of a model, deleted ones included,
// in version order.
func (s *Store) versions(dir string) ([]mlflow.ModelVersion, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	aliases, err := readTree(filepath.Join(dir, aliasesDir))
	if err != nil {
		return nil, err
	}
	var out []mlflow.ModelVersion
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), versionPrefix) {
			continue
		}
		mv, err := readVersion(filepath.Join(dir, e.Name()), aliases)
		if errors.Is(err, fs.ErrNotExist) {
			continue // being created
		} else if err != nil {
			return nil, err
		}
		out = append(out, *mv)
	}
	sort.Slice(out, func(i, j int) bool { return versionNum(out[i].Version) < versionNum(out[j].Version) })
	return out, nil
}

func versionNum(v string) int64 {
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

func readVersion(dir string, aliases map[string]string) (*mlflow.ModelVersion, error) {
	var m versionMeta
	if err := readYAML(filepath.Join(dir, metaFile), &m); err != nil {
		return nil, err
	}
	tags, err := readTree(filepath.Join(dir, tagsDir))
	if err != nil {
		return nil, err
	}
	mv := &mlflow.ModelVersion{Name: m.Name, Version: string(m.Version), CreationTimestamp: m.CreationTimestamp,
		LastUpdatedTimestamp: m.LastUpdatedTimestamp, UserID: string(m.UserID), CurrentStage: m.CurrentStage,
		Description: string(m.Description), Source: m.Source, RunID: string(m.RunID), Status: string(m.Status),
		StatusMessage: string(m.StatusMessage), Tags: sortedTags(tags), RunLink: string(m.RunLink)}
	for _, a := range sortedTags(aliases) {
		if a.Value == mv.Version {
			mv.Aliases = append(mv.Aliases, a.Key)
		}
	}
	return mv, nil
}

// version returns one live (not deleted) version.
func (s *Store) version(name, version string) (string, *mlflow.ModelVersion, error) {
	dir, err := s.modelDir(name)
	if err != nil {
		return "", nil, err
	}
	if !versionPattern.MatchString(version) {
		return "", nil, fmt.Errorf("model %q version %q: not a positive integer: %w", name, version, mlflow.ErrInvalidParameter)
	}
	if _, err := os.Stat(filepath.Join(dir, metaFile)); err != nil {
		return "", nil, fmt.Errorf("registered model %q: %w", name, mlflow.ErrNotFound)
	}
	aliases, err := readTree(filepath.Join(dir, aliasesDir))
	if err != nil {
		return "", nil, fmt.Errorf("model %q: %w", name, err)
	}
	vdir := filepath.Join(dir, versionPrefix+version)
	mv, err := readVersion(vdir, aliases)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && mv.CurrentStage == stageDeletedInternal) {
		return "", nil, fmt.Errorf("model %q version %s: %w", name, version, mlflow.ErrNotFound)
	} else if err != nil {
		return "", nil, fmt.Errorf("model %q version %s: %w", name, version, err)
	}
	return vdir, mv, nil
}

// GetModelVersion returns one version of a registered model.
func (s *Store) GetModelVersion(ctx context.Context, name, version string) (*mlflow.ModelVersion, error) {
	_, mv, err := s.version(name, version)
	return mv, err
}

// CreateModelVersion registers the next version of the registered model
// req.Name. A file store registers at once: the version is READY. Version
// numbers are unique even with writers in several processes (and MLflow's
// own, which do not take the lock): the complete version folder is renamed
// into place, which fails when the number is taken, and the next is tried.
func (s *Store) CreateModelVersion(ctx context.Context, req mlflow.CreateModelVersionRequest) (*mlflow.ModelVersion, error) {
	dir, err := s.modelDir(req.Name)
	if err != nil {
		return nil, err
	}
	if req.Source == "" {
		return nil, fmt.Errorf("create version of %q: empty source: %w", req.Name, mlflow.ErrInvalidParameter)
	}
	if strings.HasPrefix(req.Source, "models:") {
		return nil, fmt.Errorf("create version of %q: source %s: models: URIs as sources are not supported by the file store: %w", req.Name, req.Source, mlflow.ErrInvalidParameter)
	}
	for _, t := range req.Tags {
		if err := mlflow.ValidateTag(t.Key, t.Value); err != nil {
			return nil, fmt.Errorf("create version of %q: %w", req.Name, err)
		}
	}
	var version string
	err = s.locked(ctx, func() error {
		if _, err := os.Stat(filepath.Join(dir, metaFile)); err != nil {
			return fmt.Errorf("registered model %q: %w", req.Name, mlflow.ErrNotFound)
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		var n int64 = 1
		for _, e := range ents {
			if v, ok := strings.CutPrefix(e.Name(), versionPrefix); ok && e.IsDir() && versionNum(v) >= n {
				n = versionNum(v) + 1
			}
		}
		// The version is made complete in a staging folder, which MLflow
		// does not list (no "version-" prefix), and renamed into place: no
		// reader sees a version without its meta.yaml. The rename fails
		// when version-<n> exists with content, and the next n is tried.
		tmp, err := os.MkdirTemp(dir, tmpPrefix+"version-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		for _, t := range req.Tags {
			if err := s.writeFile(join(filepath.Join(tmp, tagsDir), t.Key), []byte(t.Value)); err != nil {
				return err
			}
		}
		if err := os.Chmod(tmp, 0o755); err != nil {
			return err
		}
		now := s.now().UnixMilli()
		m := &versionMeta{CreationTimestamp: now, CurrentStage: mlflow.StageNone, Description: optString(req.Description),
			LastUpdatedTimestamp: now, Name: req.Name, RunID: optString(req.RunID), RunLink: optString(req.RunLink),
			Source: req.Source, Status: statusReady, StorageLocation: optString(req.Source)}
		for ; ; n++ {
			m.Version = idString(strconv.FormatInt(n, 10))
			if err := s.writeFile(filepath.Join(tmp, metaFile), m.yaml().marshal()); err != nil {
				return err
			}
			err := os.Rename(tmp, filepath.Join(dir, versionPrefix+string(m.Version)))
			if err == nil {
				break
			}
			if !errors.Is(err, fs.ErrExist) && !errors.Is(err, syscall.ENOTEMPTY) {
				return err
			}
		}
		version = string(m.Version)
		return s.touchModel(dir)
	})
	if err != nil {
		return nil, fmt.Errorf("create version of %q: %w", req.Name, err)
	}
	return s.GetModelVersion(ctx, req.Name, version)
}

// WaitModelVersionReady returns the version, which a file store makes
// READY when it creates it; any other status is an error.
func (s *Store) WaitModelVersionReady(ctx context.Context, name, version string, timeout time.Duration) (*mlflow.ModelVersion, error) {
	mv, err := s.GetModelVersion(ctx, name, version)
	if err != nil {
		return nil, err
	}
	if mv.Status != statusReady {
		return nil, &mlflow.RegistrationError{Name: name, Version: version, Message: fmt.Sprintf("status %s: %s", mv.Status, mv.StatusMessage)}
	}
	return mv, nil
}

// updateVersion rewrites a live version's meta.yaml under the lock and
// touches the model.
func (s *Store) updateVersion(ctx context.Context, name, version string, change func(*versionMeta) error) error {
	return s.locked(ctx, func() error {
		vdir, _, err := s.version(name, version)
		if err != nil {
			return err
		}
		var m versionMeta
		if err := readYAML(filepath.Join(vdir, metaFile), &m); err != nil {
			return err
		}
		if err := change(&m); err != nil {
			return err
		}
		if err := s.writeFile(filepath.Join(vdir, metaFile), m.yaml().marshal()); err != nil {
			return err
		}
		return s.touchModel(filepath.Dir(vdir))
	})
}

// DeleteModelVersion deletes a version: as MLflow does, its folder stays
// with stage Deleted_Internal (so the number is not reused) and its
// aliases are removed.
func (s *Store) DeleteModelVersion(ctx context.Context, name, version string) error {
	err := s.updateVersion(ctx, name, version, func(m *versionMeta) error {
		m.CurrentStage = stageDeletedInternal
		m.LastUpdatedTimestamp = s.now().UnixMilli()
		dir := filepath.Join(s.root, modelsDir, name)
		aliases, err := readTree(filepath.Join(dir, aliasesDir))
		if err != nil {
			return err
		}
		for a, v := range aliases {
			if v == version {
				if err := os.Remove(join(filepath.Join(dir, aliasesDir), a)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete model %q version %s: %w", name, version, err)
	}
	return nil
}

// SetModelVersionTag sets (or overwrites) a tag of a model version.
func (s *Store) SetModelVersionTag(ctx context.Context, name, version, key, value string) error {
	if err := mlflow.ValidateTag(key, value); err != nil {
		return fmt.Errorf("tag model %q version %s: %w", name, version, err)
	}
	err := s.locked(ctx, func() error {
		vdir, _, err := s.version(name, version)
		if err != nil {
			return err
		}
		if err := s.writeFile(join(filepath.Join(vdir, tagsDir), key), []byte(value)); err != nil {
			return err
		}
		return s.touchModel(filepath.Dir(vdir))
	})
	if err != nil {
		return fmt.Errorf("tag model %q version %s: %w", name, version, err)
	}
	return nil
}

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

// GetLatestVersions returns the latest live version of each given stage,
// or of every stage when stages is empty, in version order.
func (s *Store) GetLatestVersions(ctx context.Context, name string, stages ...string) ([]mlflow.ModelVersion, error) {
	dir, err := s.modelDir(name)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, metaFile)); err != nil {
		return nil, fmt.Errorf("registered model %q: %w", name, mlflow.ErrNotFound)
	}
	vs, err := s.versions(dir)
	if err != nil {
		return nil, fmt.Errorf("versions of %q: %w", name, err)
	}
	want := map[string]bool{}
	for _, st := range stages {
		want[strings.ToLower(st)] = true
	}
	latest := map[string]mlflow.ModelVersion{}
	for _, v := range vs {
		st := strings.ToLower(v.CurrentStage)
		if v.CurrentStage == stageDeletedInternal || (len(want) > 0 && !want[st]) {
			continue
		}
		latest[st] = v // vs is in version order
	}
	var out []mlflow.ModelVersion
	for _, v := range latest {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return versionNum(out[i].Version) < versionNum(out[j].Version) })
	return out, nil
}

// versionFilter is the part of MLflow's search syntax the file store
// understands: name='…' and run_id='…' joined by AND.
type versionFilter struct{ name, runID *string }

func parseVersionFilter(f string) (versionFilter, error) {
	var vf versionFilter
	rest := strings.TrimSpace(f)
	for rest != "" {
		i := strings.IndexAny(rest, " =")
		if i < 0 {
			return vf, fmt.Errorf("filter %q: want field = 'value'", f)
		}
		field := rest[:i]
		rest = strings.TrimLeft(rest[i:], " ")
		if !strings.HasPrefix(rest, "=") {
			return vf, fmt.Errorf("filter %q: only = comparisons are supported", f)
		}
		rest = strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(rest, "="), "="), " ")
		if rest == "" || (rest[0] != '\'' && rest[0] != '"') {
			return vf, fmt.Errorf("filter %q: %s needs a quoted value", f, field)
		}
		q := rest[0]
		var val strings.Builder
		j := 1
		for ; j < len(rest) && rest[j] != q; j++ {
			if rest[j] == '\\' && j+1 < len(rest) {
				j++
			}
			val.WriteByte(rest[j])
		}
		if j >= len(rest) {
			return vf, fmt.Errorf("filter %q: unterminated string", f)
		}
		v := val.String()
		switch strings.ToLower(field) {
		case "name":
			vf.name = &v
		case "run_id":
			vf.runID = &v
		default:
			return vf, fmt.Errorf("filter %q: the file store searches by name and run_id only, not %s", f, field)
		}
		rest = strings.TrimSpace(rest[j+1:])
		if rest == "" {
			break
		}
		lower := strings.ToLower(rest)
		if !strings.HasPrefix(lower, "and ") {
			return vf, fmt.Errorf("filter %q: conditions must be joined by AND", f)
		}
		rest = strings.TrimSpace(rest[4:])
	}
	return vf, nil
}

// SearchModelVersions returns one page of the live versions that
// req.Filter selects (name='…', run_id='…', or both with AND; "" for all),
// newest first as MLflow orders them: last update descending, then name,
// then version descending. OrderBy is not supported.
func (s *Store) SearchModelVersions(ctx context.Context, req mlflow.SearchModelVersionsRequest) (*mlflow.ModelVersionsPage, error) {
	if len(req.OrderBy) > 0 {
		return nil, fmt.Errorf("search model versions: the file store supports no order_by (got %q): %w", req.OrderBy, mlflow.ErrInvalidParameter)
	}
	vf, err := parseVersionFilter(req.Filter)
	if err != nil {
		return nil, fmt.Errorf("search model versions: %w: %w", err, mlflow.ErrInvalidParameter)
	}
	var names []string
	if vf.name != nil {
		if validateModelName(*vf.name) == nil {
			names = []string{*vf.name}
		}
	} else {
		if err := s.ensure(ctx); err != nil {
			return nil, err
		}
		ents, err := os.ReadDir(filepath.Join(s.root, modelsDir))
		if err != nil {
			return nil, fmt.Errorf("search model versions: %w", err)
		}
		for _, e := range ents {
			if e.IsDir() {
				names = append(names, e.Name())
			}
		}
	}
	var all []mlflow.ModelVersion
	for _, n := range names {
		dir := filepath.Join(s.root, modelsDir, n)
		if _, err := os.Stat(filepath.Join(dir, metaFile)); err != nil {
			continue
		}
		vs, err := s.versions(dir)
		if err != nil {
			return nil, fmt.Errorf("search model versions of %q: %w", n, err)
		}
		for _, v := range vs {
			if v.CurrentStage != stageDeletedInternal && (vf.runID == nil || v.RunID == *vf.runID) {
				all = append(all, v)
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.LastUpdatedTimestamp != b.LastUpdatedTimestamp {
			return a.LastUpdatedTimestamp > b.LastUpdatedTimestamp
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return versionNum(a.Version) > versionNum(b.Version)
	})
	page, next, err := pageOf(len(all), req.MaxResults, req.PageToken)
	if err != nil {
		return nil, fmt.Errorf("search model versions: %w", err)
	}
	return &mlflow.ModelVersionsPage{ModelVersions: all[page[0]:page[1]], NextPageToken: next}, nil
}

// AllModelVersions yields every model version matching req, following page
// tokens from req.PageToken on. It stops after the first error.
func (s *Store) AllModelVersions(ctx context.Context, req mlflow.SearchModelVersionsRequest) iter.Seq2[mlflow.ModelVersion, error] {
	return mlflow.Paginate(req.PageToken, func(token string) ([]mlflow.ModelVersion, string, error) {
		req.PageToken = token
		page, err := s.SearchModelVersions(ctx, req)
		if err != nil {
			return nil, "", err
		}
		return page.ModelVersions, page.NextPageToken, nil
	})
}

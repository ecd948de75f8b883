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

	"github.com/creditrisk/engine/internal/tempfile"
	"github.com/creditrisk/engine/mlflow"
)

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

var versionPattern = regexp.MustCompile(`^[1-9][0-9]*$`)

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
	// ModelID is the logged model the version was made from (MLflow 3).
	ModelID optString `yaml:"model_id"`
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
		StatusMessage: string(m.StatusMessage), Tags: sortedTags(tags), RunLink: string(m.RunLink), ModelID: string(m.ModelID)}
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
	// A version made from a logged model (source models:/<model_id>, as
	// MLflow 3 registers) is stored at the model's artifact location and
	// belongs to its source run unless told otherwise.
	storage, runID := req.Source, req.RunID
	if id, ok := strings.CutPrefix(req.Source, "models:/"); ok || req.ModelID != "" {
		if ok && req.ModelID != "" && id != req.ModelID {
			return nil, fmt.Errorf("create version of %q: source %s names another model than model_id %s: %w", req.Name, req.Source, req.ModelID, mlflow.ErrInvalidParameter)
		}
		if !ok {
			id = req.ModelID
		} else if strings.Contains(id, "/") || strings.Contains(id, "@") {
			return nil, fmt.Errorf("create version of %q: source %s: only models:/<model_id> sources are supported by the file store: %w", req.Name, req.Source, mlflow.ErrInvalidParameter)
		}
		lm, err := s.GetLoggedModel(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("create version of %q: %w", req.Name, err)
		}
		req.ModelID = id
		if ok {
			storage = lm.Info.ArtifactURI
		}
		if runID == "" {
			runID = lm.Info.SourceRunID
		}
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
		tmp, err := tempfile.Mkdir(dir, tmpPrefix+"version-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		for _, t := range req.Tags {
			if err := s.writeFile(join(filepath.Join(tmp, tagsDir), t.Key), []byte(t.Value)); err != nil {
				return err
			}
		}
		now := s.now().UnixMilli()
		m := &versionMeta{CreationTimestamp: now, CurrentStage: mlflow.StageNone, Description: optString(req.Description),
			LastUpdatedTimestamp: now, Name: req.Name, RunID: optString(runID), RunLink: optString(req.RunLink),
			Source: req.Source, Status: statusReady, StorageLocation: optString(storage), ModelID: optString(req.ModelID)}
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
		if req.ModelID != "" {
			if err := s.addModelVersionTag(req.ModelID, req.Name, version); err != nil {
				return err
			}
		}
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

package filestore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/creditrisk/engine/mlflow"
)

var expIDPattern = regexp.MustCompile(`^[0-9]+$`)

// newExperimentID is a random 18-digit integer, as MLflow's file store
// picks (_generate_unique_integer_id).
func newExperimentID() (string, error) {
	lo := new(big.Int).Exp(big.NewInt(10), big.NewInt(17), nil)
	span := new(big.Int).Mul(lo, big.NewInt(9))
	n, err := rand.Int(rand.Reader, span)
	if err != nil {
		return "", err
	}
	return n.Add(n, lo).String(), nil
}

type expMeta struct {
	ArtifactLocation string   `yaml:"artifact_location"`
	CreationTime     int64    `yaml:"creation_time"`
	ExperimentID     idString `yaml:"experiment_id"`
	LastUpdateTime   int64    `yaml:"last_update_time"`
	LifecycleStage   string   `yaml:"lifecycle_stage"`
	Name             string   `yaml:"name"`
}

// createExperiment writes a new experiment; the caller holds the lock.
func (s *Store) createExperiment(id, name, artifactLocation string, tags []mlflow.Tag) (*mlflow.Experiment, error) {
	dir := filepath.Join(s.root, id)
	if err := os.Mkdir(dir, 0o777); err != nil {
		return nil, fmt.Errorf("create experiment %q: %w", name, err)
	}
	if artifactLocation == "" {
		artifactLocation = fileURI(dir)
	}
	now := s.now().UnixMilli()
	meta := yamlMap{
		"artifact_location": artifactLocation,
		"creation_time":     now,
		"experiment_id":     id,
		"last_update_time":  now,
		"lifecycle_stage":   stageActive,
		"name":              name,
	}
	for _, t := range tags {
		if err := mlflow.ValidateKey("experiment tag", t.Key); err != nil {
			return nil, err
		}
		if err := s.writeFile(join(filepath.Join(dir, tagsDir), t.Key), []byte(t.Value)); err != nil {
			return nil, fmt.Errorf("create experiment %q: tag %s: %w", name, t.Key, err)
		}
	}
	if err := s.writeFile(filepath.Join(dir, metaFile), meta.marshal()); err != nil {
		return nil, fmt.Errorf("create experiment %q: %w", name, err)
	}
	return &mlflow.Experiment{ID: id, Name: name, ArtifactLocation: artifactLocation, LifecycleStage: stageActive,
		CreationTime: now, LastUpdateTime: now, Tags: tags}, nil
}

// experimentDir finds the folder of experiment id, active or in the trash.
func (s *Store) experimentDir(id string) (string, error) {
	if err := s.ensure(context.Background()); err != nil {
		return "", err
	}
	if !expIDPattern.MatchString(id) {
		return "", fmt.Errorf("experiment id %q is malformed: %w", id, mlflow.ErrInvalidParameter)
	}
	for _, d := range []string{filepath.Join(s.root, id), filepath.Join(s.root, trashDir, id)} {
		if _, err := os.Stat(filepath.Join(d, metaFile)); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("experiment %s: %w", id, mlflow.ErrNotFound)
}

func (s *Store) readExperiment(dir string) (*mlflow.Experiment, error) {
	var m expMeta
	if err := readYAML(filepath.Join(dir, metaFile), &m); err != nil {
		return nil, err
	}
	if string(m.ExperimentID) != filepath.Base(dir) {
		return nil, fmt.Errorf("%s: experiment_id %q does not match the folder", filepath.Join(dir, metaFile), m.ExperimentID)
	}
	tags, err := readTree(filepath.Join(dir, tagsDir))
	if err != nil {
		return nil, err
	}
	return &mlflow.Experiment{ID: string(m.ExperimentID), Name: m.Name, ArtifactLocation: m.ArtifactLocation,
		LifecycleStage: m.LifecycleStage, CreationTime: m.CreationTime, LastUpdateTime: m.LastUpdateTime,
		Tags: sortedTags(tags)}, nil
}

// GetExperiment returns the experiment with the given ID.
func (s *Store) GetExperiment(ctx context.Context, id string) (*mlflow.Experiment, error) {
	dir, err := s.experimentDir(id)
	if err != nil {
		return nil, err
	}
	e, err := s.readExperiment(dir)
	if err != nil {
		return nil, fmt.Errorf("experiment %s: %w", id, err)
	}
	return e, nil
}

// experiments lists the experiments, active ones and, with deleted, those
// in the trash. Folders without a readable meta.yaml (being created, or
// broken) are skipped, as MLflow does.
func (s *Store) experiments(deleted bool) ([]mlflow.Experiment, error) {
	if err := s.ensure(context.Background()); err != nil {
		return nil, err
	}
	parents := []string{s.root}
	if deleted {
		parents = append(parents, filepath.Join(s.root, trashDir))
	}
	var out []mlflow.Experiment
	for _, p := range parents {
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !e.IsDir() || !isExperimentDirName(e.Name()) {
				continue
			}
			exp, err := s.readExperiment(filepath.Join(p, e.Name()))
			if err != nil {
				continue
			}
			out = append(out, *exp)
		}
	}
	return out, nil
}

// GetExperimentByName returns the experiment named name (an active one in
// preference to a deleted one); ErrNotFound when there is none.
func (s *Store) GetExperimentByName(ctx context.Context, name string) (*mlflow.Experiment, error) {
	exps, err := s.experiments(true)
	if err != nil {
		return nil, fmt.Errorf("experiment %q: %w", name, err)
	}
	var found *mlflow.Experiment
	for i := range exps {
		if exps[i].Name == name && (found == nil || exps[i].LifecycleStage == stageActive) {
			found = &exps[i]
		}
	}
	if found == nil {
		return nil, fmt.Errorf("experiment %q: %w", name, mlflow.ErrNotFound)
	}
	return found, nil
}

// CreateExperiment creates an experiment and returns its ID;
// ErrAlreadyExists when the name is taken (also by a deleted experiment).
func (s *Store) CreateExperiment(ctx context.Context, req mlflow.CreateExperimentRequest) (string, error) {
	var id string
	err := s.locked(ctx, func() error {
		e, err := s.createLocked(req)
		if e != nil {
			id = e.ID
		}
		return err
	})
	return id, err
}

func (s *Store) createLocked(req mlflow.CreateExperimentRequest) (*mlflow.Experiment, error) {
	if err := mlflow.ValidateExperimentName(req.Name); err != nil {
		return nil, err
	}
	if _, err := s.GetExperimentByName(context.Background(), req.Name); err == nil {
		return nil, fmt.Errorf("experiment %q: %w", req.Name, mlflow.ErrAlreadyExists)
	} else if !errors.Is(err, mlflow.ErrNotFound) {
		return nil, err
	}
	for range 10 {
		id, err := newExperimentID()
		if err != nil {
			return nil, err
		}
		e, err := s.createExperiment(id, req.Name, req.ArtifactLocation, req.Tags)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return e, err
	}
	return nil, fmt.Errorf("create experiment %q: no free id after 10 tries", req.Name)
}

// GetOrCreateExperiment returns the active experiment named req.Name,
// creating it when missing. Concurrent callers, also in other processes,
// get the same experiment. A deleted experiment of that name is an error,
// as in the Python client's set_experiment.
func (s *Store) GetOrCreateExperiment(ctx context.Context, req mlflow.CreateExperimentRequest) (*mlflow.Experiment, error) {
	var out *mlflow.Experiment
	err := s.locked(ctx, func() error {
		e, err := s.GetExperimentByName(ctx, req.Name)
		if err == nil {
			if e.LifecycleStage != stageActive {
				return fmt.Errorf("experiment %q is deleted: restore it or choose another name", req.Name)
			}
			out = e
			return nil
		}
		if !errors.Is(err, mlflow.ErrNotFound) {
			return err
		}
		out, err = s.createLocked(req)
		return err
	})
	return out, err
}

// SetExperimentTag sets a tag on an active experiment.
func (s *Store) SetExperimentTag(ctx context.Context, experimentID, key, value string) error {
	if err := mlflow.ValidateTag(key, value); err != nil {
		return fmt.Errorf("set tag of experiment %s: %w", experimentID, err)
	}
	dir, err := s.experimentDir(experimentID)
	if err != nil {
		return fmt.Errorf("set tag of experiment %s: %w", experimentID, err)
	}
	if filepath.Dir(dir) != s.root {
		return fmt.Errorf("set tag of experiment %s: it is deleted: %w", experimentID, mlflow.ErrInvalidParameter)
	}
	if err := s.writeFile(join(filepath.Join(dir, tagsDir), key), []byte(value)); err != nil {
		return fmt.Errorf("set tag %s of experiment %s: %w", key, experimentID, err)
	}
	return nil
}

// SearchExperiments returns one page of the experiments of req.ViewType,
// by name. Filters and ordering are refused: the store answers the
// listings the project makes, not MLflow's search grammar.
func (s *Store) SearchExperiments(ctx context.Context, req mlflow.SearchExperimentsRequest) (*mlflow.ExperimentsPage, error) {
	if req.Filter != "" || len(req.OrderBy) > 0 {
		return nil, fmt.Errorf("search experiments: the file store supports no filter or order_by (got %q, %q): %w", req.Filter, req.OrderBy, mlflow.ErrInvalidParameter)
	}
	all, err := s.experiments(req.ViewType != mlflow.ActiveOnly && req.ViewType != "")
	if err != nil {
		return nil, fmt.Errorf("search experiments: %w", err)
	}
	var exps []mlflow.Experiment
	for _, e := range all {
		if matchesView(req.ViewType, e.LifecycleStage) {
			exps = append(exps, e)
		}
	}
	sort.Slice(exps, func(i, j int) bool { return exps[i].Name < exps[j].Name })
	page, next, err := pageOf(len(exps), req.MaxResults, req.PageToken)
	if err != nil {
		return nil, fmt.Errorf("search experiments: %w", err)
	}
	return &mlflow.ExperimentsPage{Experiments: exps[page[0]:page[1]], NextPageToken: next}, nil
}

// AllExperiments yields every experiment req selects, following page
// tokens from req.PageToken on.
func (s *Store) AllExperiments(ctx context.Context, req mlflow.SearchExperimentsRequest) iter.Seq2[mlflow.Experiment, error] {
	return mlflow.Paginate(req.PageToken, func(token string) ([]mlflow.Experiment, string, error) {
		req.PageToken = token
		page, err := s.SearchExperiments(ctx, req)
		if err != nil {
			return nil, "", err
		}
		return page.Experiments, page.NextPageToken, nil
	})
}

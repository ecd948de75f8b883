package filestore

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/google/uuid"

	"github.com/creditrisk/engine/mlflow"
)

// Run states as the integers meta.yaml holds (MLflow's RunStatus enum).
var statusCodes = map[mlflow.RunStatus]int64{
	mlflow.RunRunning: 1, mlflow.RunScheduled: 2, mlflow.RunFinished: 3,
	mlflow.RunFailed: 4, mlflow.RunKilled: 5,
}

func statusName(code int64) (mlflow.RunStatus, error) {
	for s, c := range statusCodes {
		if c == code {
			return s, nil
		}
	}
	return "", fmt.Errorf("unknown run status %d", code)
}

// tagLoggedModels is the run tag log_model appends the model to.
const tagLoggedModels = "mlflow.log-model.history"

var runIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][\w\-]{0,255}$`)

func validateRunID(id string) error {
	if !runIDPattern.MatchString(id) {
		return fmt.Errorf("run id %q is malformed: %w", id, mlflow.ErrInvalidParameter)
	}
	return nil
}

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
	if err := os.Mkdir(dir, 0o755); err != nil {
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

// runMeta is a run's meta.yaml.
type runMeta struct {
	ArtifactURI    string   `yaml:"artifact_uri"`
	EndTime        *int64   `yaml:"end_time"`
	ExperimentID   idString `yaml:"experiment_id"`
	LifecycleStage string   `yaml:"lifecycle_stage"`
	RunID          string   `yaml:"run_id"`
	RunUUID        string   `yaml:"run_uuid"`
	RunName        string   `yaml:"run_name"`
	StartTime      *int64   `yaml:"start_time"`
	Status         *int64   `yaml:"status"`
	UserID         string   `yaml:"user_id"`
	DeletedTime    *int64   `yaml:"deleted_time"`
}

func (m *runMeta) yaml() yamlMap {
	opt := func(p *int64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	y := yamlMap{
		"artifact_uri":    m.ArtifactURI,
		"end_time":        opt(m.EndTime),
		"experiment_id":   string(m.ExperimentID),
		"lifecycle_stage": m.LifecycleStage,
		"run_id":          m.RunID,
		"run_uuid":        m.RunID,
		"run_name":        m.RunName,
		"start_time":      opt(m.StartTime),
		"status":          opt(m.Status),
		"user_id":         m.UserID,
		"deleted_time":    opt(m.DeletedTime),
		// Fields RunInfo lost long ago; MLflow still writes them for old
		// readers.
		"tags":             []string{},
		"source_type":      int64(4),
		"source_name":      "",
		"entry_point_name": "",
		"source_version":   "",
	}
	return y
}

func (m *runMeta) info() (mlflow.RunInfo, error) {
	id := m.RunID
	if id == "" {
		id = m.RunUUID
	}
	status := mlflow.RunRunning
	if m.Status != nil {
		var err error
		if status, err = statusName(*m.Status); err != nil {
			return mlflow.RunInfo{}, err
		}
	}
	stage := m.LifecycleStage
	if stage == "" {
		stage = stageActive
	}
	info := mlflow.RunInfo{RunID: id, RunName: m.RunName, ExperimentID: string(m.ExperimentID), UserID: m.UserID,
		Status: status, ArtifactURI: m.ArtifactURI, LifecycleStage: stage}
	if m.StartTime != nil {
		info.StartTime = *m.StartTime
	}
	if m.EndTime != nil {
		info.EndTime = *m.EndTime
	}
	return info, nil
}

// runDir finds the folder of run id below the active or deleted
// experiments.
func (s *Store) runDir(id string) (string, error) {
	if err := validateRunID(id); err != nil {
		return "", err
	}
	if err := s.ensure(context.Background()); err != nil {
		return "", err
	}
	for _, parent := range []string{s.root, filepath.Join(s.root, trashDir)} {
		ents, err := os.ReadDir(parent)
		if err != nil {
			return "", fmt.Errorf("run %s: %w", id, err)
		}
		for _, e := range ents {
			if !e.IsDir() || !isExperimentDirName(e.Name()) {
				continue
			}
			d := filepath.Join(parent, e.Name(), id)
			if _, err := os.Stat(filepath.Join(d, metaFile)); err == nil {
				return d, nil
			}
		}
	}
	return "", fmt.Errorf("run %s: %w", id, mlflow.ErrNotFound)
}

func readRunMeta(dir string) (*runMeta, error) {
	var m runMeta
	if err := readYAML(filepath.Join(dir, metaFile), &m); err != nil {
		return nil, err
	}
	if filepath.Base(filepath.Dir(dir)) != string(m.ExperimentID) {
		return nil, fmt.Errorf("%s: experiment_id %q does not match the folder", filepath.Join(dir, metaFile), m.ExperimentID)
	}
	return &m, nil
}

// activeRun returns the folder and meta of run id, which must not be
// deleted.
func (s *Store) activeRun(id string) (string, *runMeta, error) {
	dir, err := s.runDir(id)
	if err != nil {
		return "", nil, err
	}
	m, err := readRunMeta(dir)
	if err != nil {
		return "", nil, fmt.Errorf("run %s: %w", id, err)
	}
	if m.LifecycleStage == stageDeleted {
		return "", nil, fmt.Errorf("run %s is deleted; only active runs can be changed: %w", id, mlflow.ErrInvalidParameter)
	}
	return dir, m, nil
}

// CreateRun starts a run in state RUNNING in experiment req.ExperimentID
// ("" is the Default experiment). Without a run name one is made up, as
// MLflow does, and kept in the mlflow.runName tag.
func (s *Store) CreateRun(ctx context.Context, req mlflow.CreateRunRequest) (*mlflow.Run, error) {
	expID := req.ExperimentID
	if expID == "" {
		expID = defaultExpID
	}
	exp, err := s.GetExperiment(ctx, expID)
	if err != nil {
		return nil, fmt.Errorf("create run: %w", err)
	}
	if exp.LifecycleStage != stageActive {
		return nil, fmt.Errorf("create run: experiment %s is deleted: %w", expID, mlflow.ErrInvalidParameter)
	}
	tags := map[string]string{}
	for _, t := range req.Tags {
		if err := mlflow.ValidateTag(t.Key, t.Value); err != nil {
			return nil, fmt.Errorf("create run: %w", err)
		}
		tags[t.Key] = t.Value
	}
	name := req.RunName
	if tn, ok := tags[mlflow.TagRunName]; ok && name != "" && tn != name {
		return nil, fmt.Errorf("create run: run name %q and tag %s=%q differ: %w", name, mlflow.TagRunName, tn, mlflow.ErrInvalidParameter)
	} else if ok {
		name = tn
	}
	if name == "" {
		name = randomRunName()
	}
	tags[mlflow.TagRunName] = name
	user := tags[mlflow.TagUser]
	if user == "" {
		user = "unknown"
	}
	start := req.StartTime.UnixMilli()
	if req.StartTime.IsZero() {
		start = s.now().UnixMilli()
	}
	expDir := filepath.Join(s.root, expID)
	var id, dir string
	for {
		id = strings.ReplaceAll(uuid.NewString(), "-", "")
		dir = filepath.Join(expDir, id)
		if err := os.Mkdir(dir, 0o755); err == nil {
			break
		} else if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create run: %w", err)
		}
	}
	running := statusCodes[mlflow.RunRunning]
	m := &runMeta{
		ArtifactURI:    strings.TrimRight(exp.ArtifactLocation, "/") + "/" + id + "/" + artifactsDir,
		ExperimentID:   idString(expID),
		LifecycleStage: stageActive,
		RunID:          id,
		RunName:        name,
		StartTime:      &start,
		Status:         &running,
		UserID:         user,
	}
	for _, d := range []string{metricsDir, paramsDir, artifactsDir, tagsDir} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("create run: %w", err)
		}
	}
	for k, v := range tags {
		if err := s.writeFile(join(filepath.Join(dir, tagsDir), k), []byte(v)); err != nil {
			return nil, fmt.Errorf("create run: tag %s: %w", k, err)
		}
	}
	// meta.yaml last: until it is there, readers skip the folder.
	if err := s.writeFile(filepath.Join(dir, metaFile), m.yaml().marshal()); err != nil {
		return nil, fmt.Errorf("create run: %w", err)
	}
	return s.GetRun(ctx, id)
}

// LogBatch records params, metrics and tags of a run, in that order, as
// MLflow's file store does. Everything is validated before anything is
// written. A param already logged with another value is an error
// (ErrInvalidParameter); the same value again is fine.
func (s *Store) LogBatch(ctx context.Context, runID string, b mlflow.Batch) error {
	for _, p := range b.Params {
		if err := mlflow.ValidateParam(p.Key, p.Value); err != nil {
			return fmt.Errorf("log batch to run %s: %w", runID, err)
		}
	}
	for _, m := range b.Metrics {
		if err := mlflow.ValidateKey("metric", m.Key); err != nil {
			return fmt.Errorf("log batch to run %s: %w", runID, err)
		}
	}
	for _, t := range b.Tags {
		if err := mlflow.ValidateTag(t.Key, t.Value); err != nil {
			return fmt.Errorf("log batch to run %s: %w", runID, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir, _, err := s.activeRun(runID)
	if err != nil {
		return fmt.Errorf("log batch: %w", err)
	}
	for _, p := range b.Params {
		if err := s.logParam(dir, p); err != nil {
			return fmt.Errorf("log batch to run %s: %w", runID, err)
		}
	}
	// One append per key keeps a batch's points of a key together.
	lines := map[string][]byte{}
	var keys []string
	now := s.now().UnixMilli()
	for _, m := range b.Metrics {
		ts := m.Timestamp
		if ts == 0 {
			ts = now
		}
		if _, ok := lines[m.Key]; !ok {
			keys = append(keys, m.Key)
		}
		lines[m.Key] = fmt.Appendf(lines[m.Key], "%d %s %d\n", ts, pyFloat(m.Value), m.Step)
	}
	for _, k := range keys {
		if err := appendFile(join(filepath.Join(dir, metricsDir), k), lines[k]); err != nil {
			return fmt.Errorf("log batch to run %s: metric %s: %w", runID, k, err)
		}
	}
	for _, t := range b.Tags {
		if err := s.setTag(ctx, runID, dir, t); err != nil {
			return fmt.Errorf("log batch to run %s: %w", runID, err)
		}
	}
	return nil
}

func (s *Store) logParam(runDir string, p mlflow.Param) error {
	path := join(filepath.Join(runDir, paramsDir), p.Key)
	err := s.createFile(path, []byte(p.Value))
	if !errors.Is(err, fs.ErrExist) {
		if err != nil {
			return fmt.Errorf("param %s: %w", p.Key, err)
		}
		return nil
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("param %s: %w", p.Key, err)
	}
	if string(old) != p.Value {
		return fmt.Errorf("param %s was logged as %q; it cannot change to %q: %w", p.Key, old, p.Value, mlflow.ErrInvalidParameter)
	}
	return nil
}

// setTag writes a run tag; mlflow.runName also renames the run in its
// meta.yaml.
func (s *Store) setTag(ctx context.Context, runID, dir string, t mlflow.Tag) error {
	if err := s.writeFile(join(filepath.Join(dir, tagsDir), t.Key), []byte(t.Value)); err != nil {
		return fmt.Errorf("tag %s: %w", t.Key, err)
	}
	if t.Key != mlflow.TagRunName {
		return nil
	}
	return s.updateRunMeta(ctx, runID, func(m *runMeta) { m.RunName = t.Value })
}

// SetTag sets (or overwrites) a run tag.
func (s *Store) SetTag(ctx context.Context, runID, key, value string) error {
	if err := mlflow.ValidateTag(key, value); err != nil {
		return fmt.Errorf("set tag on run %s: %w", runID, err)
	}
	dir, _, err := s.activeRun(runID)
	if err != nil {
		return fmt.Errorf("set tag: %w", err)
	}
	return s.setTag(ctx, runID, dir, mlflow.Tag{Key: key, Value: value})
}

// updateRunMeta rewrites a run's meta.yaml under the lock.
func (s *Store) updateRunMeta(ctx context.Context, runID string, change func(*runMeta)) error {
	return s.locked(ctx, func() error {
		dir, m, err := s.activeRun(runID)
		if err != nil {
			return err
		}
		change(m)
		return s.writeFile(filepath.Join(dir, metaFile), m.yaml().marshal())
	})
}

// TerminateRun ends a run with status (FINISHED, FAILED or KILLED) now.
func (s *Store) TerminateRun(ctx context.Context, runID string, status mlflow.RunStatus) error {
	code, ok := statusCodes[status]
	if !ok {
		return fmt.Errorf("end run %s: unknown status %q: %w", runID, status, mlflow.ErrInvalidParameter)
	}
	end := s.now().UnixMilli()
	err := s.updateRunMeta(ctx, runID, func(m *runMeta) {
		m.Status = &code
		m.EndTime = &end
	})
	if err != nil {
		return fmt.Errorf("end run %s: %w", runID, err)
	}
	return nil
}

// LogModel appends m (the JSON of a logged model: run_id, artifact_path,
// utc_time_created, model_uuid, flavors) to the run's
// mlflow.log-model.history tag, as MLflow's record_logged_model does.
func (s *Store) LogModel(ctx context.Context, runID string, m json.RawMessage) error {
	if !json.Valid(m) {
		return fmt.Errorf("log model to run %s: not valid JSON: %w", runID, mlflow.ErrInvalidParameter)
	}
	return s.locked(ctx, func() error {
		dir, _, err := s.activeRun(runID)
		if err != nil {
			return fmt.Errorf("log model: %w", err)
		}
		path := join(filepath.Join(dir, tagsDir), tagLoggedModels)
		var list []json.RawMessage
		if b, err := os.ReadFile(path); err == nil {
			if err := json.Unmarshal(b, &list); err != nil {
				return fmt.Errorf("log model to run %s: tag %s: %w", runID, tagLoggedModels, err)
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("log model to run %s: %w", runID, err)
		}
		list = append(list, m)
		b, err := json.Marshal(list)
		if err != nil {
			return fmt.Errorf("log model to run %s: %w", runID, err)
		}
		if err := s.writeFile(path, b); err != nil {
			return fmt.Errorf("log model to run %s: %w", runID, err)
		}
		return nil
	})
}

// datasetID and inputID are the folder names MLflow gives a dataset (in
// the experiment) and its link to a run: md5 of the concatenated strings.
func datasetID(name, digest string) string {
	h := md5.Sum([]byte(name + digest))
	return hex.EncodeToString(h[:])
}

func inputID(datasetID, runID string) string {
	h := md5.Sum([]byte(datasetID + runID))
	return hex.EncodeToString(h[:])
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// LogInputs records the datasets a run used: each (name, digest) once in
// the experiment's datasets/, each link once in the run's inputs/.
func (s *Store) LogInputs(ctx context.Context, runID string, inputs []mlflow.DatasetInput) error {
	dir, m, err := s.activeRun(runID)
	if err != nil {
		return fmt.Errorf("log inputs: %w", err)
	}
	expDir := filepath.Dir(dir)
	for _, in := range inputs {
		d := in.Dataset
		if d.Name == "" || d.Digest == "" || d.SourceType == "" || d.Source == "" {
			return fmt.Errorf("log inputs to run %s: dataset %q needs name, digest, source_type and source: %w", runID, d.Name, mlflow.ErrInvalidParameter)
		}
		did := datasetID(d.Name, d.Digest)
		meta := yamlMap{"digest": d.Digest, "name": d.Name, "profile": nullable(d.Profile),
			"schema": nullable(d.Schema), "source": d.Source, "source_type": d.SourceType}
		err := s.createFile(filepath.Join(expDir, datasetsDir, did, metaFile), meta.marshal())
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("log inputs to run %s: dataset %s: %w", runID, d.Name, err)
		}
		tags := map[string]string{}
		for _, t := range in.Tags {
			tags[t.Key] = t.Value
		}
		// destination_id repeats the dataset id: MLflow's file store
		// (2.9 to 3.x) writes it so and never reads it.
		link := yamlMap{"source_type": "DATASET", "source_id": did, "destination_type": "RUN",
			"destination_id": did, "tags": tags}
		if err := s.placeDir(dir, filepath.Join(dir, inputsDir, inputID(did, m.RunID)), link.marshal()); err != nil {
			return fmt.Errorf("log inputs to run %s: dataset %s: %w", runID, d.Name, err)
		}
	}
	return nil
}

// placeDir makes the folder final holding only a meta.yaml, unless it
// exists. MLflow reads every folder under a run's inputs/, so the folder is
// completed in a staging folder below stage (which MLflow does not read)
// and renamed into place: readers never see it without its meta.yaml.
func (s *Store) placeDir(stage, final string, meta []byte) error {
	if _, err := os.Stat(filepath.Join(final, metaFile)); err == nil {
		return nil
	}
	tmp, err := os.MkdirTemp(stage, tmpPrefix)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := s.writeFile(filepath.Join(tmp, metaFile), meta); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	err = os.Rename(tmp, final)
	if errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ENOTEMPTY) {
		return nil // another writer linked it first
	}
	return err
}

type datasetMeta struct {
	Digest     string    `yaml:"digest"`
	Name       string    `yaml:"name"`
	Profile    optString `yaml:"profile"`
	Schema     optString `yaml:"schema"`
	Source     string    `yaml:"source"`
	SourceType string    `yaml:"source_type"`
}

type inputMeta struct {
	SourceType string            `yaml:"source_type"`
	SourceID   string            `yaml:"source_id"`
	Tags       map[string]string `yaml:"tags"`
}

func readInputs(runDir string) ([]mlflow.DatasetInput, error) {
	ents, err := os.ReadDir(filepath.Join(runDir, inputsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []mlflow.DatasetInput
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		var in inputMeta
		if err := readYAML(filepath.Join(runDir, inputsDir, e.Name(), metaFile), &in); err != nil {
			return nil, err
		}
		if in.SourceType != "DATASET" {
			continue
		}
		var d datasetMeta
		err := readYAML(filepath.Join(filepath.Dir(runDir), datasetsDir, in.SourceID, metaFile), &d)
		if errors.Is(err, fs.ErrNotExist) {
			continue // MLflow skips a link to a missing dataset too
		} else if err != nil {
			return nil, err
		}
		out = append(out, mlflow.DatasetInput{Tags: sortedTags(in.Tags), Dataset: mlflow.Dataset{
			Name: d.Name, Digest: d.Digest, SourceType: d.SourceType, Source: d.Source,
			Schema: string(d.Schema), Profile: string(d.Profile)}})
	}
	return out, nil
}

func sortedTags(m map[string]string) []mlflow.Tag {
	out := make([]mlflow.Tag, 0, len(m))
	for k, v := range m {
		out = append(out, mlflow.Tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	if len(out) == 0 {
		return nil
	}
	return out
}

// GetRun returns a run with its latest metrics, params, tags and inputs.
func (s *Store) GetRun(ctx context.Context, runID string) (*mlflow.Run, error) {
	dir, err := s.runDir(runID)
	if err != nil {
		return nil, err
	}
	r, err := s.readRun(dir)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", runID, err)
	}
	return r, nil
}

func (s *Store) readRun(dir string) (*mlflow.Run, error) {
	m, err := readRunMeta(dir)
	if err != nil {
		return nil, err
	}
	info, err := m.info()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, metaFile), err)
	}
	tags, err := readTree(filepath.Join(dir, tagsDir))
	if err != nil {
		return nil, err
	}
	if info.RunName == "" {
		info.RunName = tags[mlflow.TagRunName]
	}
	params, err := readTree(filepath.Join(dir, paramsDir))
	if err != nil {
		return nil, err
	}
	r := &mlflow.Run{Info: info}
	r.Data.Tags = sortedTags(tags)
	for _, t := range sortedTags(params) {
		r.Data.Params = append(r.Data.Params, mlflow.Param{Key: t.Key, Value: t.Value})
	}
	files, err := readTree(filepath.Join(dir, metricsDir))
	if err != nil {
		return nil, err
	}
	for _, t := range sortedTags(files) {
		hist, err := parseHistory(t.Key, t.Value)
		if err != nil {
			return nil, err
		}
		if len(hist) == 0 {
			return nil, fmt.Errorf("metric %s: no data", t.Key)
		}
		r.Data.Metrics = append(r.Data.Metrics, latest(hist))
	}
	if r.Inputs.DatasetInputs, err = readInputs(dir); err != nil {
		return nil, err
	}
	return r, nil
}

// latest is the point MLflow shows as a metric's value: the greatest
// (step, timestamp, value), compared as Python compares tuples.
func latest(hist []mlflow.Metric) mlflow.Metric {
	best := hist[0]
	for _, m := range hist[1:] {
		switch {
		case m.Step != best.Step:
			if m.Step > best.Step {
				best = m
			}
		case m.Timestamp != best.Timestamp:
			if m.Timestamp > best.Timestamp {
				best = m
			}
		case m.Value > best.Value: // false with NaN on either side, as in Python
			best = m
		}
	}
	return best
}

func parseHistory(key, content string) ([]mlflow.Metric, error) {
	var out []mlflow.Metric
	for i, line := range strings.Split(content, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		ts, v, step, err := parseMetricLine(line)
		if err != nil {
			return nil, fmt.Errorf("metric %s line %d: %w", key, i+1, err)
		}
		out = append(out, mlflow.Metric{Key: key, Value: v, Timestamp: ts, Step: step})
	}
	return out, nil
}

// GetMetricHistory returns every point logged for a run's metric, in the
// order logged; none when the metric was never logged.
func (s *Store) GetMetricHistory(ctx context.Context, runID, key string) ([]mlflow.Metric, error) {
	if err := mlflow.ValidateKey("metric", key); err != nil {
		return nil, fmt.Errorf("metric history of run %s: %w", runID, err)
	}
	dir, err := s.runDir(runID)
	if err != nil {
		return nil, fmt.Errorf("metric history: %w", err)
	}
	b, err := os.ReadFile(join(filepath.Join(dir, metricsDir), key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("metric history of run %s: %w", runID, err)
	}
	hist, err := parseHistory(key, string(b))
	if err != nil {
		return nil, fmt.Errorf("metric history of run %s: %w", runID, err)
	}
	return hist, nil
}

// SearchRuns returns the runs of req.ExperimentIDs, newest first (by start
// time, then run id). Filters and other orders are not supported and are
// refused rather than ignored. MaxResults (default 1000) and PageToken page
// through the result.
func (s *Store) SearchRuns(ctx context.Context, req mlflow.SearchRunsRequest) (*mlflow.RunsPage, error) {
	if req.Filter != "" || len(req.OrderBy) > 0 {
		return nil, fmt.Errorf("search runs: the file store supports no filter or order_by (got %q, %q): %w", req.Filter, req.OrderBy, mlflow.ErrInvalidParameter)
	}
	var runs []mlflow.Run
	for _, id := range req.ExperimentIDs {
		expDir, err := s.experimentDir(id)
		if err != nil {
			return nil, fmt.Errorf("search runs: %w", err)
		}
		ents, err := os.ReadDir(expDir)
		if err != nil {
			return nil, fmt.Errorf("search runs: %w", err)
		}
		for _, e := range ents {
			if !e.IsDir() || e.Name() == tagsDir || e.Name() == datasetsDir || e.Name() == modelsDir {
				continue
			}
			r, err := s.readRun(filepath.Join(expDir, e.Name()))
			if errors.Is(err, fs.ErrNotExist) {
				continue // being created
			} else if err != nil {
				return nil, fmt.Errorf("search runs: run %s: %w", e.Name(), err)
			}
			if matchesView(req.RunViewType, r.Info.LifecycleStage) {
				runs = append(runs, *r)
			}
		}
	}
	sort.Slice(runs, func(i, j int) bool {
		if runs[i].Info.StartTime != runs[j].Info.StartTime {
			return runs[i].Info.StartTime > runs[j].Info.StartTime
		}
		return runs[i].Info.RunID < runs[j].Info.RunID
	})
	page, next, err := pageOf(len(runs), req.MaxResults, req.PageToken)
	if err != nil {
		return nil, fmt.Errorf("search runs: %w", err)
	}
	return &mlflow.RunsPage{Runs: runs[page[0]:page[1]], NextPageToken: next}, nil
}

func matchesView(v mlflow.ViewType, stage string) bool {
	switch v {
	case mlflow.AllViews:
		return true
	case mlflow.DeletedOnly:
		return stage == stageDeleted
	default:
		return stage != stageDeleted
	}
}

// pageOf picks the window [from, to) of n results that maxResults
// (0: 1000) and token (an offset, "" for the start) name, and the next
// page's token.
func pageOf(n int, maxResults int64, token string) ([2]int, string, error) {
	if maxResults <= 0 {
		maxResults = 1000
	}
	from := 0
	if token != "" {
		v, err := strconv.Atoi(token)
		if err != nil || v < 0 {
			return [2]int{}, "", fmt.Errorf("page token %q is malformed: %w", token, mlflow.ErrInvalidParameter)
		}
		from = v
	}
	from = min(from, n)
	to := int(math.Min(float64(n), float64(from)+float64(maxResults)))
	next := ""
	if to < n {
		next = strconv.Itoa(to)
	}
	return [2]int{from, to}, next, nil
}

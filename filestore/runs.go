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
	"strings"
	"time"

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

var runIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][\w\-]{0,255}$`)

func validateRunID(id string) error {
	if !runIDPattern.MatchString(id) {
		return fmt.Errorf("run id %q is malformed: %w", id, mlflow.ErrInvalidParameter)
	}
	return nil
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
	return s.findDir("run "+id, id)
}

// findDir finds the folder rel (holding a meta.yaml) below the active or
// deleted experiments; what names the thing in errors.
func (s *Store) findDir(what, rel string) (string, error) {
	if err := s.ensure(context.Background()); err != nil {
		return "", err
	}
	for _, parent := range []string{s.root, filepath.Join(s.root, trashDir)} {
		ents, err := os.ReadDir(parent)
		if err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		for _, e := range ents {
			if !e.IsDir() || !isExperimentDirName(e.Name()) {
				continue
			}
			d := filepath.Join(parent, e.Name(), rel)
			if _, err := os.Stat(filepath.Join(d, metaFile)); err == nil {
				return d, nil
			}
		}
	}
	return "", fmt.Errorf("%s: %w", what, mlflow.ErrNotFound)
}

// readParams reads the params/ folder of a run or logged model, sorted
// by key.
func readParams(dir string) ([]mlflow.Param, error) {
	params, err := readTree(filepath.Join(dir, paramsDir))
	if err != nil {
		return nil, err
	}
	var out []mlflow.Param
	for _, t := range sortedTags(params) {
		out = append(out, mlflow.Param{Key: t.Key, Value: t.Value})
	}
	return out, nil
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
		if err := os.Mkdir(dir, 0o777); err == nil {
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
		if err := os.Mkdir(filepath.Join(dir, d), 0o777); err != nil {
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
	r := &mlflow.Run{Info: info}
	r.Data.Tags = sortedTags(tags)
	if r.Data.Params, err = readParams(dir); err != nil {
		return nil, err
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
	if r.Outputs.ModelOutputs, err = readOutputs(dir); err != nil {
		return nil, err
	}
	return r, nil
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

// UpdateRun sets an active run's status and, unless end is zero, its end
// time, as the server's runs/update does.
func (s *Store) UpdateRun(ctx context.Context, runID string, status mlflow.RunStatus, end time.Time) (*mlflow.RunInfo, error) {
	code, ok := statusCodes[status]
	if !ok {
		return nil, fmt.Errorf("update run %s: unknown status %q: %w", runID, status, mlflow.ErrInvalidParameter)
	}
	err := s.updateRunMeta(ctx, runID, func(m *runMeta) {
		m.Status = &code
		if !end.IsZero() {
			ms := end.UnixMilli()
			m.EndTime = &ms
		}
	})
	if err != nil {
		return nil, fmt.Errorf("update run %s to %s: %w", runID, status, err)
	}
	r, err := s.GetRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	return &r.Info, nil
}

// AllRuns yields every run req selects, following page tokens from
// req.PageToken on.
func (s *Store) AllRuns(ctx context.Context, req mlflow.SearchRunsRequest) iter.Seq2[mlflow.Run, error] {
	return mlflow.Paginate(req.PageToken, func(token string) ([]mlflow.Run, string, error) {
		req.PageToken = token
		page, err := s.SearchRuns(ctx, req)
		if err != nil {
			return nil, "", err
		}
		return page.Runs, page.NextPageToken, nil
	})
}

package filestore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/creditrisk/engine/mlflow"
)

// MLflow 3's logged models, in the layout its file store writes
// (mlflow/store/tracking/file_store.py, 3.x):
//
//	<exp>/models/<model_id>/meta.yaml      artifact_location, creation_timestamp, experiment_id,
//	                                       last_updated_timestamp, model_id, model_type, name,
//	                                       source_run_id, status (1 PENDING, 2 READY,
//	                                       3 UPLOAD_FAILED), status_message, lifecycle_stage
//	<exp>/models/<model_id>/params/<key>   raw value
//	<exp>/models/<model_id>/tags/<key>     raw value
//	<exp>/models/<model_id>/metrics/<key>  "<ts> <value> <step> <run_id> [<dataset_name> <dataset_digest>]"
//	<exp>/models/<model_id>/artifacts/     the model's files (file: artifact roots)
//	<exp>/<run_id>/outputs/<model_id>/meta.yaml  the run's model outputs
//
// A metric logged with a model id goes to the run's file as a plain
// "<ts> <value> <step>" line, which MLflow 2.9 still reads (it refuses
// MLflow 3's five-field run lines), and with its run and dataset to the
// model's file, which only MLflow 3 reads.

const outputsDir = "outputs"

// Logged-model states as the integers meta.yaml holds.
var loggedStatusCodes = map[mlflow.LoggedModelStatus]int64{
	mlflow.LoggedModelPending: 1, mlflow.LoggedModelReady: 2, mlflow.LoggedModelUploadFailed: 3,
}

// loggedMeta is a logged model's meta.yaml.
type loggedMeta struct {
	ArtifactLocation     string    `yaml:"artifact_location"`
	CreationTimestamp    int64     `yaml:"creation_timestamp"`
	ExperimentID         idString  `yaml:"experiment_id"`
	LastUpdatedTimestamp int64     `yaml:"last_updated_timestamp"`
	LifecycleStage       optString `yaml:"lifecycle_stage"`
	ModelID              string    `yaml:"model_id"`
	ModelType            optString `yaml:"model_type"`
	Name                 string    `yaml:"name"`
	SourceRunID          optString `yaml:"source_run_id"`
	Status               idString  `yaml:"status"` // an integer; a name is read too
	StatusMessage        optString `yaml:"status_message"`
}

func (m *loggedMeta) yaml() yamlMap {
	code, ok := loggedStatusCodes[m.status()]
	if !ok {
		code = loggedStatusCodes[mlflow.LoggedModelPending]
	}
	stage := string(m.LifecycleStage)
	if stage == "" {
		stage = stageActive
	}
	return yamlMap{
		"artifact_location": m.ArtifactLocation, "creation_timestamp": m.CreationTimestamp,
		"experiment_id": string(m.ExperimentID), "last_updated_timestamp": m.LastUpdatedTimestamp,
		"lifecycle_stage": stage, "model_id": m.ModelID, "model_type": nullable(string(m.ModelType)),
		"name": m.Name, "source_run_id": nullable(string(m.SourceRunID)), "status": code,
		"status_message": nullable(string(m.StatusMessage)),
	}
}

// status reads the integer MLflow writes, or a status name.
func (m *loggedMeta) status() mlflow.LoggedModelStatus {
	if n, err := strconv.ParseInt(string(m.Status), 10, 64); err == nil {
		for s, c := range loggedStatusCodes {
			if c == n {
				return s
			}
		}
		return ""
	}
	return mlflow.LoggedModelStatus(m.Status)
}

// SupportsLoggedModels is true: the local store keeps MLflow 3's layout.
func (s *Store) SupportsLoggedModels(ctx context.Context) (bool, error) { return true, nil }

// loggedModelDir finds the folder of logged model id below the active or
// deleted experiments.
func (s *Store) loggedModelDir(id string) (string, error) {
	if err := mlflow.ValidateLoggedModelID(id); err != nil {
		return "", err
	}
	return s.findDir("logged model "+id, filepath.Join(modelsDir, id))
}

// CreateLoggedModel creates a logged model in state PENDING, with its
// params and tags, in an active experiment. Its artifact location is
// <experiment's artifact location>/models/<model_id>/artifacts.
func (s *Store) CreateLoggedModel(ctx context.Context, req mlflow.CreateLoggedModelRequest) (*mlflow.LoggedModel, error) {
	if err := mlflow.ValidateCreateLoggedModel(req); err != nil {
		return nil, fmt.Errorf("create logged model: %w", err)
	}
	exp, err := s.GetExperiment(ctx, req.ExperimentID)
	if err != nil {
		return nil, fmt.Errorf("create logged model: %w", err)
	}
	if exp.LifecycleStage != stageActive {
		return nil, fmt.Errorf("create logged model: experiment %s is deleted: %w", exp.ID, mlflow.ErrInvalidParameter)
	}
	if req.SourceRunID != "" {
		if _, err := s.runDir(req.SourceRunID); err != nil {
			return nil, fmt.Errorf("create logged model: source %w", err)
		}
	}
	name := req.Name
	if name == "" {
		name = randomRunName()
	}
	parent := filepath.Join(s.root, exp.ID, modelsDir)
	if err := os.MkdirAll(parent, 0o777); err != nil {
		return nil, fmt.Errorf("create logged model: %w", err)
	}
	var id, dir string
	for {
		id = "m-" + strings.ReplaceAll(uuid.NewString(), "-", "")
		dir = filepath.Join(parent, id)
		if err := os.Mkdir(dir, 0o777); err == nil {
			break
		} else if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create logged model: %w", err)
		}
	}
	for _, d := range []string{metricsDir, paramsDir, tagsDir} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o777); err != nil {
			return nil, fmt.Errorf("create logged model: %w", err)
		}
	}
	for _, p := range req.Params {
		if err := s.writeFile(join(filepath.Join(dir, paramsDir), p.Key), []byte(p.Value)); err != nil {
			return nil, fmt.Errorf("create logged model: param %s: %w", p.Key, err)
		}
	}
	for _, t := range req.Tags {
		if err := s.writeFile(join(filepath.Join(dir, tagsDir), t.Key), []byte(t.Value)); err != nil {
			return nil, fmt.Errorf("create logged model: tag %s: %w", t.Key, err)
		}
	}
	now := s.now().UnixMilli()
	m := &loggedMeta{
		ArtifactLocation:  strings.TrimRight(exp.ArtifactLocation, "/") + "/" + modelsDir + "/" + id + "/" + artifactsDir,
		CreationTimestamp: now, ExperimentID: idString(exp.ID), LastUpdatedTimestamp: now,
		ModelID: id, ModelType: optString(req.ModelType), Name: name, SourceRunID: optString(req.SourceRunID),
		Status: idString(strconv.FormatInt(loggedStatusCodes[mlflow.LoggedModelPending], 10)),
	}
	// meta.yaml last: until it is there, readers skip the folder.
	if err := s.writeFile(filepath.Join(dir, metaFile), m.yaml().marshal()); err != nil {
		return nil, fmt.Errorf("create logged model: %w", err)
	}
	return s.GetLoggedModel(ctx, id)
}

// GetLoggedModel returns a live logged model with its params, tags and the
// latest point of each metric per dataset.
func (s *Store) GetLoggedModel(ctx context.Context, id string) (*mlflow.LoggedModel, error) {
	dir, err := s.loggedModelDir(id)
	if err != nil {
		return nil, fmt.Errorf("get logged model: %w", err)
	}
	m, err := s.readLoggedModel(dir)
	if err != nil {
		return nil, fmt.Errorf("get logged model %s: %w", id, err)
	}
	if m == nil {
		return nil, fmt.Errorf("get logged model %s: deleted: %w", id, mlflow.ErrNotFound)
	}
	return m, nil
}

// readLoggedModel reads a logged model's folder; nil for a deleted one.
func (s *Store) readLoggedModel(dir string) (*mlflow.LoggedModel, error) {
	var meta loggedMeta
	if err := readYAML(filepath.Join(dir, metaFile), &meta); err != nil {
		return nil, err
	}
	if meta.LifecycleStage == stageDeleted {
		return nil, nil
	}
	if want := filepath.Base(filepath.Dir(filepath.Dir(dir))); string(meta.ExperimentID) != want {
		return nil, fmt.Errorf("%s: experiment_id %q does not match the folder %s", filepath.Join(dir, metaFile), meta.ExperimentID, want)
	}
	status := meta.status()
	if status == "" {
		return nil, fmt.Errorf("%s: unknown status %q", filepath.Join(dir, metaFile), meta.Status)
	}
	out := &mlflow.LoggedModel{Info: mlflow.LoggedModelInfo{
		ModelID: meta.ModelID, ExperimentID: string(meta.ExperimentID), Name: meta.Name,
		CreationTimestampMS: meta.CreationTimestamp, LastUpdatedTimestampMS: meta.LastUpdatedTimestamp,
		ArtifactURI: meta.ArtifactLocation, Status: status, ModelType: string(meta.ModelType),
		SourceRunID: string(meta.SourceRunID), StatusMessage: string(meta.StatusMessage),
	}}
	tags, err := readTree(filepath.Join(dir, tagsDir))
	if err != nil {
		return nil, err
	}
	out.Info.Tags = sortedTags(tags)
	if v, ok := tags[mlflow.TagModelVersions]; ok {
		var regs []struct {
			Name    string          `json:"name"`
			Version json.RawMessage `json:"version"`
		}
		// A tag that does not parse only loses the registrations.
		if json.Unmarshal([]byte(v), &regs) == nil {
			for _, r := range regs {
				out.Info.Registrations = append(out.Info.Registrations, mlflow.LoggedModelRegistered{Name: r.Name, Version: strings.Trim(string(r.Version), `"`)})
			}
		}
	}
	if out.Data.Params, err = readParams(dir); err != nil {
		return nil, err
	}
	files, err := readTree(filepath.Join(dir, metricsDir))
	if err != nil {
		return nil, err
	}
	for _, t := range sortedTags(files) {
		hist, err := parseModelHistory(meta.ModelID, t.Key, t.Value)
		if err != nil {
			return nil, err
		}
		out.Data.Metrics = append(out.Data.Metrics, latestPerDataset(hist)...)
	}
	return out, nil
}

// parseModelHistory reads a logged model's metric file.
func parseModelHistory(modelID, key, content string) ([]mlflow.Metric, error) {
	var out []mlflow.Metric
	for i, line := range strings.Split(content, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 && len(f) != 6 {
			return nil, fmt.Errorf("model metric %s line %d: %d fields, want 4 or 6", key, i+1, len(f))
		}
		ts, v, step, err := parseMetricLine(strings.Join(f[:3], " "))
		if err != nil {
			return nil, fmt.Errorf("model metric %s line %d: %w", key, i+1, err)
		}
		m := mlflow.Metric{Key: key, Value: v, Timestamp: ts, Step: step, ModelID: modelID, RunID: f[3]}
		if len(f) == 6 {
			m.DatasetName, m.DatasetDigest = f[4], f[5]
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("model metric %s: no data", key)
	}
	return out, nil
}

// latestPerDataset is each dataset's latest point (as latest), in the
// order the datasets first appear.
func latestPerDataset(hist []mlflow.Metric) []mlflow.Metric {
	var order [][2]string
	groups := map[[2]string][]mlflow.Metric{}
	for _, m := range hist {
		k := [2]string{m.DatasetName, m.DatasetDigest}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], m)
	}
	out := make([]mlflow.Metric, len(order))
	for i, k := range order {
		out[i] = latest(groups[k])
	}
	return out
}

// FinalizeLoggedModel sets a logged model's status (READY, UPLOAD_FAILED).
func (s *Store) FinalizeLoggedModel(ctx context.Context, id string, status mlflow.LoggedModelStatus) (*mlflow.LoggedModel, error) {
	code, ok := loggedStatusCodes[status]
	if !ok {
		return nil, fmt.Errorf("finalize logged model %s: unknown status %q: %w", id, status, mlflow.ErrInvalidParameter)
	}
	err := s.locked(ctx, func() error {
		dir, err := s.loggedModelDir(id)
		if err != nil {
			return err
		}
		var meta loggedMeta
		if err := readYAML(filepath.Join(dir, metaFile), &meta); err != nil {
			return err
		}
		if meta.LifecycleStage == stageDeleted {
			return fmt.Errorf("logged model %s is deleted: %w", id, mlflow.ErrNotFound)
		}
		meta.Status = idString(strconv.FormatInt(code, 10))
		meta.LastUpdatedTimestamp = s.now().UnixMilli()
		return s.writeFile(filepath.Join(dir, metaFile), meta.yaml().marshal())
	})
	if err != nil {
		return nil, fmt.Errorf("finalize logged model %s as %s: %w", id, status, err)
	}
	return s.GetLoggedModel(ctx, id)
}

// SetLoggedModelTags sets (or overwrites) tags of a logged model.
func (s *Store) SetLoggedModelTags(ctx context.Context, id string, tags []mlflow.Tag) error {
	for _, t := range tags {
		if err := mlflow.ValidateTag(t.Key, t.Value); err != nil {
			return fmt.Errorf("tag logged model %s: %w", id, err)
		}
	}
	if _, err := s.GetLoggedModel(ctx, id); err != nil {
		return fmt.Errorf("tag logged model: %w", err)
	}
	dir, err := s.loggedModelDir(id)
	if err != nil {
		return fmt.Errorf("tag logged model: %w", err)
	}
	for _, t := range tags {
		if err := s.writeFile(join(filepath.Join(dir, tagsDir), t.Key), []byte(t.Value)); err != nil {
			return fmt.Errorf("tag logged model %s: tag %s: %w", id, t.Key, err)
		}
	}
	return nil
}

// addModelVersionTag records a registered version made from a logged
// model in its mlflow.modelVersions tag, once, as MLflow's stores do when
// a version is created (json.dumps of [{"name": …, "version": <int>}]).
// The caller holds the lock.
func (s *Store) addModelVersionTag(id, name, version string) error {
	dir, err := s.loggedModelDir(id)
	if err != nil {
		return err
	}
	path := join(filepath.Join(dir, tagsDir), mlflow.TagModelVersions)
	var regs []struct {
		Name    string          `json:"name"`
		Version json.RawMessage `json:"version"`
	}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &regs); err != nil {
			return fmt.Errorf("logged model %s: tag %s: %w", id, mlflow.TagModelVersions, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var b strings.Builder
	b.WriteByte('[')
	for _, r := range regs {
		if r.Name == name && strings.Trim(string(r.Version), `"`) == version {
			return nil
		}
		n, _ := json.Marshal(r.Name)
		fmt.Fprintf(&b, `{"name": %s, "version": %s}, `, n, r.Version)
	}
	n, _ := json.Marshal(name)
	fmt.Fprintf(&b, `{"name": %s, "version": %s}]`, n, version)
	return s.writeFile(path, []byte(b.String()))
}

// SearchLoggedModels returns the live logged models of req.ExperimentIDs,
// newest first (by creation time, then id). Filters are not supported and
// are refused rather than ignored. MaxResults (default 100) and PageToken
// page through the result.
func (s *Store) SearchLoggedModels(ctx context.Context, req mlflow.SearchLoggedModelsRequest) (*mlflow.LoggedModelsPage, error) {
	if req.Filter != "" {
		return nil, fmt.Errorf("search logged models: the file store supports no filter (got %q): %w", req.Filter, mlflow.ErrInvalidParameter)
	}
	if len(req.ExperimentIDs) == 0 {
		return nil, fmt.Errorf("search logged models: no experiment ids: %w", mlflow.ErrInvalidParameter)
	}
	var models []mlflow.LoggedModel
	for _, id := range req.ExperimentIDs {
		expDir, err := s.experimentDir(id)
		if err != nil {
			return nil, fmt.Errorf("search logged models: %w", err)
		}
		ents, err := os.ReadDir(filepath.Join(expDir, modelsDir))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("search logged models: %w", err)
		}
		for _, e := range ents {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			m, err := s.readLoggedModel(filepath.Join(expDir, modelsDir, e.Name()))
			if errors.Is(err, fs.ErrNotExist) {
				continue // being created
			} else if err != nil {
				return nil, fmt.Errorf("search logged models: model %s: %w", e.Name(), err)
			}
			if m != nil {
				models = append(models, *m)
			}
		}
	}
	slices.SortFunc(models, func(a, b mlflow.LoggedModel) int {
		if c := cmp.Compare(b.Info.CreationTimestampMS, a.Info.CreationTimestampMS); c != 0 {
			return c
		}
		return cmp.Compare(a.Info.ModelID, b.Info.ModelID)
	})
	max := req.MaxResults
	if max == 0 {
		max = 100
	}
	page, next, err := pageOf(len(models), max, req.PageToken)
	if err != nil {
		return nil, fmt.Errorf("search logged models: %w", err)
	}
	return &mlflow.LoggedModelsPage{Models: models[page[0]:page[1]], NextPageToken: next}, nil
}

// AllLoggedModels yields every logged model req selects, page by page.
func (s *Store) AllLoggedModels(ctx context.Context, req mlflow.SearchLoggedModelsRequest) iter.Seq2[mlflow.LoggedModel, error] {
	return mlflow.Paginate(req.PageToken, func(token string) ([]mlflow.LoggedModel, string, error) {
		req.PageToken = token
		page, err := s.SearchLoggedModels(ctx, req)
		if err != nil {
			return nil, "", err
		}
		return page.Models, page.NextPageToken, nil
	})
}

// LogOutputs records logged models as outputs of an active run, each
// once, in <run>/outputs/<model_id>/meta.yaml.
func (s *Store) LogOutputs(ctx context.Context, runID string, models []mlflow.LoggedModelOutput) error {
	for _, m := range models {
		if err := mlflow.ValidateLoggedModelID(m.ModelID); err != nil {
			return fmt.Errorf("log outputs of run %s: %w", runID, err)
		}
	}
	dir, _, err := s.activeRun(runID)
	if err != nil {
		return fmt.Errorf("log outputs: %w", err)
	}
	for _, m := range models {
		if _, err := s.GetLoggedModel(ctx, m.ModelID); err != nil {
			return fmt.Errorf("log outputs of run %s: %w", runID, err)
		}
		// destination_id repeats the model id, as MLflow's file store
		// writes it (and reads the model id from there).
		link := yamlMap{"source_type": "RUN_OUTPUT", "source_id": m.ModelID, "destination_type": "MODEL_OUTPUT",
			"destination_id": m.ModelID, "tags": map[string]string{}, "step": m.Step}
		if err := s.placeDir(dir, filepath.Join(dir, outputsDir, m.ModelID), link.marshal()); err != nil {
			return fmt.Errorf("log outputs of run %s: model %s: %w", runID, m.ModelID, err)
		}
	}
	return nil
}

type outputMeta struct {
	DestinationType string `yaml:"destination_type"`
	DestinationID   string `yaml:"destination_id"`
	Step            int64  `yaml:"step"`
}

// readOutputs reads a run's model outputs, by model id.
func readOutputs(runDir string) ([]mlflow.LoggedModelOutput, error) {
	ents, err := os.ReadDir(filepath.Join(runDir, outputsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []mlflow.LoggedModelOutput
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		var m outputMeta
		if err := readYAML(filepath.Join(runDir, outputsDir, e.Name(), metaFile), &m); err != nil {
			return nil, err
		}
		if m.DestinationType != "MODEL_OUTPUT" {
			continue
		}
		out = append(out, mlflow.LoggedModelOutput{ModelID: m.DestinationID, Step: m.Step})
	}
	slices.SortFunc(out, func(a, b mlflow.LoggedModelOutput) int { return cmp.Compare(a.ModelID, b.ModelID) })
	return out, nil
}

// logModelMetrics appends the points linked to logged models to each
// model's metric files, with the run and the dataset they came from.
func (s *Store) logModelMetrics(runID string, metrics []mlflow.Metric, now int64) error {
	type file struct{ model, key string }
	lines := map[file][]byte{}
	var files []file
	dirs := map[string]string{}
	for _, m := range metrics {
		if m.ModelID == "" {
			continue
		}
		if _, ok := dirs[m.ModelID]; !ok {
			d, err := s.loggedModelDir(m.ModelID)
			if err != nil {
				return fmt.Errorf("metric %s: %w", m.Key, err)
			}
			dirs[m.ModelID] = d
		}
		ts := m.Timestamp
		if ts == 0 {
			ts = now
		}
		f := file{m.ModelID, m.Key}
		if _, ok := lines[f]; !ok {
			files = append(files, f)
		}
		line := fmt.Appendf(lines[f], "%d %s %d %s", ts, pyFloat(m.Value), m.Step, runID)
		if m.DatasetName != "" {
			line = fmt.Appendf(line, " %s %s", m.DatasetName, m.DatasetDigest)
		}
		lines[f] = append(line, '\n')
	}
	for _, f := range files {
		if err := appendFile(join(filepath.Join(dirs[f.model], metricsDir), f.key), lines[f]); err != nil {
			return fmt.Errorf("model %s metric %s: %w", f.model, f.key, err)
		}
	}
	return nil
}

// validateMetricLinks refuses what the model's metric lines cannot hold:
// fields are separated by spaces, and a dataset needs name and digest.
func validateMetricLinks(m mlflow.Metric) error {
	if m.ModelID != "" {
		if err := mlflow.ValidateLoggedModelID(m.ModelID); err != nil {
			return fmt.Errorf("metric %s: %w", m.Key, err)
		}
	}
	if (m.DatasetName == "") != (m.DatasetDigest == "") {
		return fmt.Errorf("metric %s: dataset name %q and digest %q must be given together: %w", m.Key, m.DatasetName, m.DatasetDigest, mlflow.ErrInvalidParameter)
	}
	if strings.ContainsFunc(m.DatasetName+m.DatasetDigest, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == '\r' }) {
		return fmt.Errorf("metric %s: dataset name %q and digest %q cannot hold spaces in a file store: %w", m.Key, m.DatasetName, m.DatasetDigest, mlflow.ErrInvalidParameter)
	}
	return nil
}

// Package mlsync copies what was recorded in a local MLflow file store
// (a tracking.Backend on a local file store, ./mlruns) to a tracking server: experiments,
// runs with their params, metric histories, tags, dataset inputs and
// artifacts, their MLflow 3 logged models (logged.go), and registered
// models with their versions, tags and aliases.
//
// A sync is idempotent. Each server run carries TagSourceRun (the local run
// id) and each server version TagSourceVersion (the local version number),
// so a second sync finds what the first made and adds nothing, even without
// the mapping file it keeps in the store's root. A run is marked copied
// (TagComplete) only after everything of it arrived and its status and end
// time are set; a sync failing part-way marks the server run FAILED, and
// the next sync sends what is missing and finishes it.
package mlsync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/tracking"
)

// Tags the sync sets on the server.
const (
	TagSourceRun     = "pipeline.sync.source_run_id" // on runs and versions: the local run id
	TagComplete      = "pipeline.sync.complete"      // on runs: "true" once fully copied
	TagSourceVersion = "pipeline.sync.source_version"
)

// tagLogModelHistory names the local run in its entries; it is rewritten to
// name the server run.
const tagLogModelHistory = "mlflow.log-model.history"

// registerTimeout bounds the wait for a new version to become READY.
const registerTimeout = 2 * time.Minute

// Options change what Sync does.
type Options struct {
	// DryRun reads both sides and reports what would be copied, writing
	// nothing to the server or the mapping file.
	DryRun bool
}

// RunError says which run failed to sync.
type RunError struct {
	RunID    string // local
	RemoteID string // empty when the server run was not created
	Err      error
}

func (e *RunError) Error() string {
	if e.RemoteID != "" {
		return fmt.Sprintf("sync run %s (server run %s, left FAILED): %v", e.RunID, e.RemoteID, e.Err)
	}
	return fmt.Sprintf("sync run %s: %v", e.RunID, e.Err)
}

func (e *RunError) Unwrap() error { return e.Err }

// ModelError says which registered model (and version) failed to sync.
type ModelError struct {
	Name, Version string // Version empty for the model itself or its aliases
	Err           error
}

func (e *ModelError) Error() string {
	if e.Version != "" {
		return fmt.Sprintf("sync model %q version %s: %v", e.Name, e.Version, e.Err)
	}
	return fmt.Sprintf("sync model %q: %v", e.Name, e.Err)
}

func (e *ModelError) Unwrap() error { return e.Err }

// ErrNotSynced is wrapped when a version's run could not be copied first.
var ErrNotSynced = errors.New("its run was not synced")

type syncer struct {
	src tracking.Backend
	dst tracking.Backend
	opt Options
	rep *Report
	m   *mapping
	// planned holds the local runs a dry run would create, so their
	// versions count as copyable.
	planned map[string]bool
}

// Sync copies the local store src to the server dst. The report says what
// was copied and skipped; on error it holds what was done before.
func Sync(ctx context.Context, src, dst tracking.Backend, opt Options) (*Report, error) {
	root, err := localPath(src.TrackingURI())
	if err != nil {
		return nil, fmt.Errorf("sync from %s: not a local store: %w", src.TrackingURI(), err)
	}
	rep := &Report{Source: root, Target: dst.TrackingURI(), DryRun: opt.DryRun,
		Experiments: []ExperimentReport{}, Runs: []RunReport{}, Versions: []VersionReport{}, Aliases: []AliasReport{}}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return rep, fmt.Errorf("local store %s: no such directory (train first, or point MLFLOW_TRACKING_URI=file:… at the store)", root)
	}
	path := mappingPath(root, dst.TrackingURI())
	m, err := loadMapping(path, dst.TrackingURI())
	if err != nil {
		return rep, err
	}
	s := &syncer{src: src, dst: dst, opt: opt, rep: rep, m: m, planned: map[string]bool{}}
	err = s.sync(ctx)
	if !opt.DryRun {
		if serr := m.save(path); serr != nil {
			err = errors.Join(err, serr)
		} else {
			rep.MappingFile = path
		}
	}
	rep.total()
	return rep, err
}

func (s *syncer) sync(ctx context.Context) error {
	exps, err := s.experiments(ctx)
	if err != nil {
		return err
	}
	for _, e := range exps {
		remote, err := s.experiment(ctx, e)
		if err != nil {
			return err
		}
		runs, err := s.localRuns(ctx, e.ID)
		if err != nil {
			return fmt.Errorf("sync experiment %q: %w", e.Name, err)
		}
		for _, r := range runs {
			if err := s.run(ctx, r, e.Name, remote); err != nil {
				return err
			}
		}
	}
	return s.models(ctx)
}

// experiments lists the local store's active experiments, by id.
func (s *syncer) experiments(ctx context.Context) ([]mlflow.Experiment, error) {
	var out []mlflow.Experiment
	for e, err := range s.src.AllExperiments(ctx, mlflow.SearchExperimentsRequest{ViewType: mlflow.ActiveOnly}) {
		if err != nil {
			return nil, fmt.Errorf("list local experiments: %w", err)
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b mlflow.Experiment) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// experiment finds or creates the server's experiment of the same name. In
// a dry run a missing one gives "".
func (s *syncer) experiment(ctx context.Context, e mlflow.Experiment) (string, error) {
	rep := ExperimentReport{Name: e.Name, LocalID: e.ID, Action: Skipped}
	var remote *mlflow.Experiment
	var err error
	if s.opt.DryRun {
		remote, err = s.dst.GetExperimentByName(ctx, e.Name)
		if errors.Is(err, mlflow.ErrNotFound) {
			rep.Action = Created
			s.rep.Experiments = append(s.rep.Experiments, rep)
			return "", nil
		}
	} else {
		remote, err = s.dst.GetExperimentByName(ctx, e.Name)
		if errors.Is(err, mlflow.ErrNotFound) {
			rep.Action = Created
			remote, err = s.dst.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: e.Name})
		}
	}
	if err != nil {
		return "", fmt.Errorf("sync experiment %q: %w", e.Name, err)
	}
	if remote.LifecycleStage == "deleted" {
		return "", fmt.Errorf("sync experiment %q: deleted on the server (restore it there first)", e.Name)
	}
	if !s.opt.DryRun {
		have := map[string]string{}
		for _, t := range remote.Tags {
			have[t.Key] = t.Value
		}
		for _, t := range e.Tags {
			if v, ok := have[t.Key]; ok && v == t.Value {
				continue
			}
			if err := s.dst.SetExperimentTag(ctx, remote.ID, t.Key, t.Value); err != nil {
				return "", fmt.Errorf("sync experiment %q: tag %s: %w", e.Name, t.Key, err)
			}
		}
		s.m.Experiments[e.ID] = remote.ID
	}
	rep.RemoteID = remote.ID
	s.rep.Experiments = append(s.rep.Experiments, rep)
	return remote.ID, nil
}

func (s *syncer) localRuns(ctx context.Context, expID string) ([]mlflow.Run, error) {
	var out []mlflow.Run
	for r, err := range s.src.AllRuns(ctx, mlflow.SearchRunsRequest{ExperimentIDs: []string{expID}, RunViewType: mlflow.ActiveOnly}) {
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	// Oldest first, so the server's runs are made in the order they ran.
	slices.SortStableFunc(out, func(a, b mlflow.Run) int { return cmp.Compare(a.Info.StartTime, b.Info.StartTime) })
	return out, nil
}

// findRun returns the server run made from local run id, or nil.
func (s *syncer) findRun(ctx context.Context, localID, remoteExp string) (*mlflow.Run, error) {
	if id, ok := s.m.Runs[localID]; ok {
		r, err := s.dst.GetRun(ctx, id)
		switch {
		case err == nil && r.Info.LifecycleStage != "deleted":
			return r, nil
		case err != nil && !errors.Is(err, mlflow.ErrNotFound):
			return nil, fmt.Errorf("get server run %s: %w", id, err)
		}
	}
	if remoteExp == "" {
		return nil, nil
	}
	var found []mlflow.Run
	for r, err := range s.dst.AllRuns(ctx, mlflow.SearchRunsRequest{
		ExperimentIDs: []string{remoteExp},
		Filter:        fmt.Sprintf("tags.`%s` = '%s'", TagSourceRun, localID),
		RunViewType:   mlflow.ActiveOnly,
	}) {
		if err != nil {
			return nil, fmt.Errorf("search the server for run %s: %w", localID, err)
		}
		found = append(found, r)
	}
	if len(found) == 0 {
		return nil, nil
	}
	// A completed copy wins over an incomplete one.
	for i := range found {
		if v, _ := found[i].Tag(TagComplete); v == "true" {
			return &found[i], nil
		}
	}
	return &found[0], nil
}

func (s *syncer) run(ctx context.Context, lr mlflow.Run, expName, remoteExp string) error {
	id := lr.Info.RunID
	rep := RunReport{LocalID: id, Experiment: expName, Name: lr.Info.RunName}
	if lr.Info.Status == mlflow.RunRunning || lr.Info.Status == mlflow.RunScheduled {
		rep.Action, rep.Reason = Skipped, "still "+string(lr.Info.Status)+" locally"
		s.rep.Runs = append(s.rep.Runs, rep)
		return nil
	}
	remote, err := s.findRun(ctx, id, remoteExp)
	if err != nil {
		return &RunError{RunID: id, Err: err}
	}
	if remote != nil {
		rep.RemoteID = remote.Info.RunID
		if v, _ := remote.Tag(TagComplete); v == "true" {
			rep.Action, rep.Reason = Skipped, "already on the server"
			s.m.Runs[id] = remote.Info.RunID // a dry run's mapping is not saved
			s.rep.Runs = append(s.rep.Runs, rep)
			return nil
		}
		rep.Action = Completed
		s.m.Runs[id] = remote.Info.RunID
	} else {
		rep.Action = Created
	}
	if s.opt.DryRun {
		if remote == nil {
			s.planned[id] = true
		}
		err := s.fill(ctx, lr, remote, &rep)
		s.rep.Runs = append(s.rep.Runs, rep)
		if err != nil {
			return &RunError{RunID: id, RemoteID: rep.RemoteID, Err: err}
		}
		return nil
	}
	if remote == nil {
		tags := []mlflow.Tag{{Key: TagSourceRun, Value: id}}
		for _, t := range lr.Data.Tags {
			if t.Key != tagLogModelHistory && t.Key != TagComplete {
				tags = append(tags, s.serverTag(t, id, ""))
			}
		}
		remote, err = s.dst.CreateRun(ctx, mlflow.CreateRunRequest{
			ExperimentID: remoteExp,
			RunName:      lr.Info.RunName,
			StartTime:    time.UnixMilli(lr.Info.StartTime),
			Tags:         tags,
		})
		if err != nil {
			s.rep.Runs = append(s.rep.Runs, rep)
			return &RunError{RunID: id, Err: fmt.Errorf("create server run: %w", err)}
		}
		rep.RemoteID = remote.Info.RunID
		rep.Tags = len(tags)
		s.m.Runs[id] = remote.Info.RunID
	}
	err = s.fill(ctx, lr, remote, &rep)
	if err == nil {
		end := time.Time{}
		if lr.Info.EndTime > 0 {
			end = time.UnixMilli(lr.Info.EndTime)
		}
		if _, uerr := s.dst.UpdateRun(ctx, remote.Info.RunID, lr.Info.Status, end); uerr != nil {
			err = fmt.Errorf("set status %s: %w", lr.Info.Status, uerr)
		}
	}
	if err == nil {
		// Last: a run without this tag is copied again.
		if terr := s.dst.SetTag(ctx, remote.Info.RunID, TagComplete, "true"); terr != nil {
			err = fmt.Errorf("tag %s: %w", TagComplete, terr)
		}
	}
	s.rep.Runs = append(s.rep.Runs, rep)
	if err != nil {
		// The run must not look finished: FAILED until a sync completes it.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, ferr := s.dst.UpdateRun(fctx, remote.Info.RunID, mlflow.RunFailed, time.Time{}); ferr != nil {
			err = fmt.Errorf("%w (and marking it FAILED failed: %v)", err, ferr)
		}
		return &RunError{RunID: id, RemoteID: remote.Info.RunID, Err: err}
	}
	return nil
}

// fill sends what the server run lacks of the local run: params, tags,
// metric points, inputs and artifacts. remote is nil in a dry run of a new
// run; then everything counts.
func (s *syncer) fill(ctx context.Context, lr mlflow.Run, remote *mlflow.Run, rep *RunReport) error {
	fresh := remote == nil || rep.Action == Created
	remoteID := ""
	if remote != nil {
		remoteID = remote.Info.RunID
	}
	var b mlflow.Batch
	var err error
	if b.Params, err = missingParams(lr, remote); err != nil {
		return err
	}
	b.Tags = s.missingTags(lr, remote, remoteID)
	if b.Metrics, err = s.missingPoints(ctx, lr, remoteID, fresh); err != nil {
		return err
	}
	rep.Params += len(b.Params)
	rep.Tags += len(b.Tags)
	if remote == nil {
		rep.Tags++ // TagSourceRun, which the real run gets at creation
	}
	rep.MetricPoints += len(b.Metrics)
	if !s.opt.DryRun && (len(b.Params)+len(b.Tags)+len(b.Metrics) > 0) {
		if err := s.dst.LogBatch(ctx, remoteID, b); err != nil {
			return fmt.Errorf("log params, metrics and tags: %w", err)
		}
	}
	ins := missingInputs(lr, remote)
	rep.Inputs += len(ins)
	if !s.opt.DryRun && len(ins) > 0 {
		if err := s.dst.LogInputs(ctx, remoteID, ins); err != nil {
			return fmt.Errorf("log inputs: %w", err)
		}
	}
	if err := s.artifacts(ctx, lr.Info.RunID, remote, fresh, rep); err != nil {
		return err
	}
	return s.runModels(ctx, lr, remote, rep)
}

// missingParams are the local params the server run lacks; a param with
// another value on the server is an error (params never change).
func missingParams(lr mlflow.Run, remote *mlflow.Run) ([]mlflow.Param, error) {
	have := map[string]string{}
	if remote != nil {
		for _, p := range remote.Data.Params {
			have[p.Key] = p.Value
		}
	}
	var out []mlflow.Param
	for _, p := range lr.Data.Params {
		if v, ok := have[p.Key]; ok {
			if v != p.Value {
				return nil, fmt.Errorf("param %s is %q locally but %q on the server", p.Key, p.Value, v)
			}
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// missingTags are the local tags, as the server run carries them, that it
// lacks or holds with another value.
func (s *syncer) missingTags(lr mlflow.Run, remote *mlflow.Run, remoteID string) []mlflow.Tag {
	have := map[string]string{}
	if remote != nil {
		for _, t := range remote.Data.Tags {
			have[t.Key] = t.Value
		}
	}
	var out []mlflow.Tag
	for _, t := range lr.Data.Tags {
		if t.Key == TagComplete {
			continue
		}
		t = s.serverTag(t, lr.Info.RunID, remoteID)
		if v, ok := have[t.Key]; ok && v == t.Value {
			continue
		}
		out = append(out, t)
	}
	return out
}

// missingPoints are the points of every local metric history that the
// server's history lacks (a fresh run lacks them all).
func (s *syncer) missingPoints(ctx context.Context, lr mlflow.Run, remoteID string, fresh bool) ([]mlflow.Metric, error) {
	keys := make([]string, 0, len(lr.Data.Metrics))
	for _, m := range lr.Data.Metrics {
		keys = append(keys, m.Key)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var out []mlflow.Metric
	for _, k := range keys {
		hist, err := s.src.GetMetricHistory(ctx, lr.Info.RunID, k)
		if err != nil {
			return nil, fmt.Errorf("read metric %s: %w", k, err)
		}
		seen := map[point]bool{}
		if !fresh {
			rh, err := s.dst.GetMetricHistory(ctx, remoteID, k)
			if err != nil && !errors.Is(err, mlflow.ErrNotFound) {
				return nil, fmt.Errorf("server metric %s: %w", k, err)
			}
			for _, m := range rh {
				seen[pointOf(m)] = true
			}
		}
		for _, m := range hist {
			if !seen[pointOf(m)] {
				seen[pointOf(m)] = true
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// missingInputs are the local dataset inputs the server run lacks.
func missingInputs(lr mlflow.Run, remote *mlflow.Run) []mlflow.DatasetInput {
	have := map[[2]string]bool{}
	if remote != nil {
		for _, in := range remote.Inputs.DatasetInputs {
			have[[2]string{in.Dataset.Name, in.Dataset.Digest}] = true
		}
	}
	var out []mlflow.DatasetInput
	for _, in := range lr.Inputs.DatasetInputs {
		if !have[[2]string{in.Dataset.Name, in.Dataset.Digest}] {
			out = append(out, in)
		}
	}
	return out
}

// serverTag is a local run's tag as the server run carries it: local run
// ids in it become the server's (the logged-model history names the run
// itself, mlflow.parentRunId a parent synced before, as runs go oldest
// first).
func (s *syncer) serverTag(t mlflow.Tag, localID, remoteID string) mlflow.Tag {
	switch t.Key {
	case tagLogModelHistory:
		if remoteID != "" {
			t.Value = strings.ReplaceAll(t.Value, localID, remoteID)
		}
	case mlflow.TagParentRunID:
		if p, ok := s.m.Runs[t.Value]; ok {
			t.Value = p
		}
	}
	return t
}

// point identifies a metric point; NaN values compare by their bits.
type point struct {
	step, ts int64
	bits     uint64
}

func pointOf(m mlflow.Metric) point {
	v := m.Value
	if math.IsNaN(v) {
		v = math.NaN()
	}
	return point{m.Step, m.Timestamp, math.Float64bits(v)}
}

// artifacts uploads the local run's files the server run lacks (missing, or
// of another size).
func (s *syncer) artifacts(ctx context.Context, localID string, remote *mlflow.Run, fresh bool, rep *RunReport) error {
	uri, err := s.src.RunArtifactURI(ctx, localID)
	if err != nil {
		return fmt.Errorf("local artifacts: %w", err)
	}
	files, err := localFiles(uri)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return nil
	}
	var store artifact.Store
	have := map[string]int64{}
	if remote != nil {
		store, err = s.dst.Artifacts(remote.Info.ArtifactURI)
		if err != nil {
			return fmt.Errorf("server artifacts %s: %w", remote.Info.ArtifactURI, err)
		}
		if !fresh {
			if err := list(ctx, store, "", have); err != nil {
				return fmt.Errorf("list server artifacts %s: %w", remote.Info.ArtifactURI, err)
			}
		}
	}
	for _, f := range files {
		if size, ok := have[f.rel]; ok && size == f.size {
			continue
		}
		rep.Artifacts++
		rep.ArtifactBytes += f.size
		if s.opt.DryRun {
			continue
		}
		if err := store.Upload(ctx, f.path, f.rel); err != nil {
			return fmt.Errorf("upload artifact %s: %w", f.rel, err)
		}
	}
	return nil
}

// list records the size of every file below dir of store.
func list(ctx context.Context, store artifact.Store, dir string, out map[string]int64) error {
	fis, err := store.List(ctx, dir)
	if err != nil {
		return err
	}
	for _, fi := range fis {
		if fi.IsDir {
			if err := list(ctx, store, fi.Path, out); err != nil {
				return err
			}
			continue
		}
		out[fi.Path] = fi.Size
	}
	return nil
}

// localPath turns a file store's artifact URI into a directory path.
func localPath(uri string) (string, error) {
	if !strings.Contains(uri, ":") {
		return uri, nil
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", err
	}
	if u.Scheme != "file" {
		return "", fmt.Errorf("artifact URI %s: not a local file URI", uri)
	}
	return filepath.FromSlash(u.Path), nil
}

// quote writes s as a single-quoted MLflow filter string.
func quote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}

func (s *syncer) models(ctx context.Context) error {
	var models []mlflow.RegisteredModel
	for m, err := range s.src.AllRegisteredModels(ctx, mlflow.SearchRegisteredModelsRequest{}) {
		if err != nil {
			return fmt.Errorf("list local registered models: %w", err)
		}
		models = append(models, m)
	}
	slices.SortFunc(models, func(a, b mlflow.RegisteredModel) int { return cmp.Compare(a.Name, b.Name) })
	for _, m := range models {
		if err := s.model(ctx, m.Name); err != nil {
			return err
		}
	}
	return nil
}

func (s *syncer) model(ctx context.Context, name string) error {
	local, err := s.src.GetRegisteredModel(ctx, name)
	if err != nil {
		return &ModelError{Name: name, Err: fmt.Errorf("read local model: %w", err)}
	}
	var remote *mlflow.RegisteredModel
	if s.opt.DryRun {
		remote, err = s.dst.GetRegisteredModel(ctx, name)
		if errors.Is(err, mlflow.ErrNotFound) {
			remote, err = nil, nil
		}
	} else {
		remote, err = s.dst.GetOrCreateRegisteredModel(ctx, name)
	}
	if err != nil {
		return &ModelError{Name: name, Err: err}
	}
	if remote != nil && !s.opt.DryRun {
		for _, t := range local.Tags {
			if v, ok := remote.Tag(t.Key); ok && v == t.Value {
				continue
			}
			if err := s.dst.SetRegisteredModelTag(ctx, name, t.Key, t.Value); err != nil {
				return &ModelError{Name: name, Err: fmt.Errorf("tag %s: %w", t.Key, err)}
			}
		}
	}
	// The server's versions made by earlier syncs, by local version.
	synced := map[string]mlflow.ModelVersion{}
	if remote != nil {
		for v, err := range s.dst.AllModelVersions(ctx, mlflow.SearchModelVersionsRequest{Filter: "name=" + quote(name)}) {
			if err != nil {
				return &ModelError{Name: name, Err: fmt.Errorf("list server versions: %w", err)}
			}
			for _, t := range v.Tags {
				if t.Key == TagSourceVersion {
					synced[t.Value] = v
				}
			}
		}
	}
	var versions []mlflow.ModelVersion
	for v, err := range s.src.AllModelVersions(ctx, mlflow.SearchModelVersionsRequest{Filter: "name=" + quote(name)}) {
		if err != nil {
			return &ModelError{Name: name, Err: fmt.Errorf("list local versions: %w", err)}
		}
		versions = append(versions, v)
	}
	slices.SortFunc(versions, func(a, b mlflow.ModelVersion) int {
		x, _ := strconv.Atoi(a.Version)
		y, _ := strconv.Atoi(b.Version)
		return cmp.Compare(x, y)
	})
	remoteOf := map[string]string{}
	for _, lv := range versions {
		rv, err := s.version(ctx, lv, synced)
		if err != nil {
			return &ModelError{Name: name, Version: lv.Version, Err: err}
		}
		remoteOf[lv.Version] = rv
	}
	// Aliases, pointed at the server's counterparts of the local versions.
	aliases := slices.Clone(local.Aliases)
	slices.SortFunc(aliases, func(a, b mlflow.ModelAlias) int { return cmp.Compare(a.Alias, b.Alias) })
	for _, a := range aliases {
		ar := AliasReport{Model: name, Alias: a.Alias, LocalVersion: a.Version, RemoteVersion: remoteOf[a.Version], Action: Set}
		if ar.RemoteVersion == "" && s.skippedVersion(name, a.Version) {
			ar.Action, ar.Reason = Skipped, "version "+a.Version+" was skipped"
			s.rep.Aliases = append(s.rep.Aliases, ar)
			continue
		}
		if ar.RemoteVersion == "" && !(s.opt.DryRun && s.plannedVersion(name, a.Version)) {
			return &ModelError{Name: name, Err: fmt.Errorf("alias %s: local version %s has no server version", a.Alias, a.Version)}
		}
		if remote != nil && ar.RemoteVersion != "" {
			if v, ok := remote.AliasVersion(a.Alias); ok && v == ar.RemoteVersion {
				ar.Action = Skipped
			}
		}
		if ar.Action == Set && !s.opt.DryRun {
			if err := s.dst.SetRegisteredModelAlias(ctx, name, a.Alias, ar.RemoteVersion); err != nil {
				return &ModelError{Name: name, Err: fmt.Errorf("alias %s: %w", a.Alias, err)}
			}
		}
		s.rep.Aliases = append(s.rep.Aliases, ar)
	}
	return nil
}

// running says whether the sync skipped the local run as still running.
func (s *syncer) running(localID string) bool {
	for _, r := range s.rep.Runs {
		if r.LocalID == localID && r.Action == Skipped && r.RemoteID == "" {
			return true
		}
	}
	return false
}

// plannedVersion says whether a dry run would create the version.
func (s *syncer) plannedVersion(name, version string) bool {
	return s.versionAction(name, version) == Created
}

// skippedVersion says whether the version was skipped without a server
// counterpart.
func (s *syncer) skippedVersion(name, version string) bool {
	for _, v := range s.rep.Versions {
		if v.Model == name && v.LocalVersion == version {
			return v.Action == Skipped && v.RemoteVersion == ""
		}
	}
	return false
}

func (s *syncer) versionAction(name, version string) Action {
	for _, v := range s.rep.Versions {
		if v.Model == name && v.LocalVersion == version {
			return v.Action
		}
	}
	return ""
}

// version copies one local version unless an earlier sync did, and returns
// the server's version number ("" in a dry run that would create it).
func (s *syncer) version(ctx context.Context, lv mlflow.ModelVersion, synced map[string]mlflow.ModelVersion) (string, error) {
	rep := VersionReport{Model: lv.Name, LocalVersion: lv.Version}
	if rv, ok := synced[lv.Version]; ok && rv.Status != mlflow.StatusFailedRegistration {
		rep.RemoteVersion, rep.Action, rep.Reason = rv.Version, Skipped, "already on the server"
		if !s.opt.DryRun {
			s.m.setVersion(lv.Name, lv.Version, rv.Version)
		}
		s.rep.Versions = append(s.rep.Versions, rep)
		return rv.Version, nil
	} else if ok && !s.opt.DryRun {
		// A registration that failed is dropped and made again.
		if err := s.dst.DeleteModelVersion(ctx, lv.Name, rv.Version); err != nil {
			return "", fmt.Errorf("delete failed server version %s: %w", rv.Version, err)
		}
	}
	if lv.RunID == "" {
		return "", fmt.Errorf("source %s: versions without a run are not supported", lv.Source)
	}
	remoteRun := s.m.Runs[lv.RunID]
	if remoteRun == "" && s.running(lv.RunID) {
		// A training still under way; the next sync takes it.
		rep.Action, rep.Reason = Skipped, "its run "+lv.RunID+" is still running locally"
		s.rep.Versions = append(s.rep.Versions, rep)
		return "", nil
	}
	if remoteRun == "" && !(s.opt.DryRun && s.planned[lv.RunID]) {
		return "", fmt.Errorf("run %s: %w", lv.RunID, ErrNotSynced)
	}
	var source, modelID string
	if fromLoggedModel(lv) {
		rep.Action = Created
		if s.opt.DryRun {
			s.rep.Versions = append(s.rep.Versions, rep)
			return "", nil
		}
		var err error
		if source, modelID, err = s.modelSource(ctx, lv, remoteRun); err != nil {
			return "", err
		}
	} else {
		localRoot, err := s.src.RunArtifactURI(ctx, lv.RunID)
		if err != nil {
			return "", fmt.Errorf("local run %s: %w", lv.RunID, err)
		}
		localRoot = strings.TrimRight(localRoot, "/")
		rel, ok := strings.CutPrefix(lv.Source, localRoot+"/")
		if !ok {
			return "", fmt.Errorf("source %s is not below run %s's artifacts %s", lv.Source, lv.RunID, localRoot)
		}
		rep.Action = Created
		if s.opt.DryRun {
			s.rep.Versions = append(s.rep.Versions, rep)
			return "", nil
		}
		remoteRoot, err := s.dst.RunArtifactURI(ctx, remoteRun)
		if err != nil {
			return "", fmt.Errorf("server run %s: %w", remoteRun, err)
		}
		source = strings.TrimRight(remoteRoot, "/") + "/" + rel
	}
	tags := append(slices.Clone(lv.Tags), mlflow.Tag{Key: TagSourceVersion, Value: lv.Version}, mlflow.Tag{Key: TagSourceRun, Value: lv.RunID})
	mv, err := s.dst.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{
		Name:        lv.Name,
		Source:      source,
		ModelID:     modelID,
		RunID:       remoteRun,
		Tags:        tags,
		Description: lv.Description,
	})
	if err != nil {
		return "", fmt.Errorf("create server version: %w", err)
	}
	if _, err := s.dst.WaitModelVersionReady(ctx, lv.Name, mv.Version, registerTimeout); err != nil {
		return "", fmt.Errorf("server version %s: %w", mv.Version, err)
	}
	if lv.CurrentStage != "" && lv.CurrentStage != mlflow.StageNone {
		if _, err := s.dst.TransitionModelVersionStage(ctx, lv.Name, mv.Version, lv.CurrentStage, false); err != nil {
			return "", fmt.Errorf("server version %s: stage %s: %w", mv.Version, lv.CurrentStage, err)
		}
	}
	rep.RemoteVersion = mv.Version
	s.m.setVersion(lv.Name, lv.Version, mv.Version)
	s.rep.Versions = append(s.rep.Versions, rep)
	return mv.Version, nil
}

package mlsync

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/tracking"
)

// TagSourceModel is set on a server's logged model: the local model id it
// was copied from.
const TagSourceModel = "pipeline.sync.source_model_id"

// MLflow 3's logged models of a local run (its outputs) travel with it. A
// server with logged models gets a logged model of its own for each — its
// params, tags, the latest value of each metric linked to it and its
// dataset, its files at the model's artifact location, the run's output,
// the local status — and versions made from it are registered from
// models:/<server model id>. A server without them (MLflow 2.x) gets the
// model's files under the run's artifacts at the model's name ("model/"),
// the layout MLflow 2.x writes, and versions are registered from there.

// runModels copies the logged models of local run lr that the server run
// lacks; remote is nil in a dry run of a new run.
func (s *syncer) runModels(ctx context.Context, lr mlflow.Run, remote *mlflow.Run, rep *RunReport) error {
	if len(lr.Outputs.ModelOutputs) == 0 {
		return nil
	}
	has, err := s.dst.SupportsLoggedModels(ctx)
	if err != nil {
		return err
	}
	for _, out := range lr.Outputs.ModelOutputs {
		lm, err := s.src.GetLoggedModel(ctx, out.ModelID)
		if err != nil {
			return fmt.Errorf("local logged model: %w", err)
		}
		if !has {
			if err := s.modelIntoRun(ctx, lm, remote, rep); err != nil {
				return fmt.Errorf("logged model %s: %w", lm.Info.ModelID, err)
			}
			continue
		}
		if err := s.loggedModel(ctx, lm, out.Step, remote, rep); err != nil {
			return fmt.Errorf("logged model %s: %w", lm.Info.ModelID, err)
		}
	}
	return nil
}

// loggedModel copies one local logged model to a server that has them,
// unless an earlier sync did; a copy left PENDING by a failed sync gets
// its files and status now.
func (s *syncer) loggedModel(ctx context.Context, lm *mlflow.LoggedModel, step int64, remote *mlflow.Run, rep *RunReport) error {
	var found *mlflow.LoggedModel
	if remote != nil {
		var err error
		if found, err = s.findModel(ctx, lm.Info.ModelID, remote.Info.ExperimentID); err != nil {
			return err
		}
	}
	if found != nil && found.Info.Status == lm.Info.Status {
		s.m.Models[lm.Info.ModelID] = found.Info.ModelID
		return nil
	}
	rep.LoggedModels++
	files, err := localFiles(lm.Info.ArtifactURI)
	if err != nil {
		return err
	}
	for _, f := range files {
		rep.Artifacts++
		rep.ArtifactBytes += f.size
	}
	if s.opt.DryRun {
		return nil
	}
	if found == nil {
		req := mlflow.CreateLoggedModelRequest{ExperimentID: remote.Info.ExperimentID, Name: lm.Info.Name,
			ModelType: lm.Info.ModelType, SourceRunID: remote.Info.RunID, Params: lm.Data.Params,
			Tags: []mlflow.Tag{{Key: TagSourceModel, Value: lm.Info.ModelID}}}
		for _, t := range lm.Info.Tags {
			// The server writes mlflow.modelVersions itself as versions
			// are registered from the copy.
			if t.Key != mlflow.TagModelVersions {
				req.Tags = append(req.Tags, t)
			}
		}
		if found, err = s.dst.CreateLoggedModel(ctx, req); err != nil {
			return err
		}
	}
	s.m.Models[lm.Info.ModelID] = found.Info.ModelID
	store, err := s.dst.Artifacts(found.Info.ArtifactURI)
	if err != nil {
		return fmt.Errorf("server artifacts %s: %w", found.Info.ArtifactURI, err)
	}
	for _, f := range files {
		if err := store.Upload(ctx, f.path, f.rel); err != nil {
			return fmt.Errorf("upload %s: %w", f.rel, err)
		}
	}
	var b mlflow.Batch
	for _, m := range lm.Data.Metrics {
		m.ModelID, m.RunID = found.Info.ModelID, ""
		b.Metrics = append(b.Metrics, m)
	}
	if len(b.Metrics) > 0 {
		if err := s.dst.LogBatch(ctx, remote.Info.RunID, b); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	if err := s.dst.LogOutputs(ctx, remote.Info.RunID, []mlflow.LoggedModelOutput{{ModelID: found.Info.ModelID, Step: step}}); err != nil {
		return err
	}
	if _, err := s.dst.FinalizeLoggedModel(ctx, found.Info.ModelID, lm.Info.Status); err != nil {
		return err
	}
	return nil
}

// findModel returns the server's copy of local model id, or nil.
func (s *syncer) findModel(ctx context.Context, id, remoteExp string) (*mlflow.LoggedModel, error) {
	if rid, ok := s.m.Models[id]; ok {
		m, err := s.dst.GetLoggedModel(ctx, rid)
		switch {
		case err == nil:
			return m, nil
		case !errors.Is(err, mlflow.ErrNotFound):
			return nil, fmt.Errorf("get server logged model %s: %w", rid, err)
		}
	}
	for m, err := range s.dst.AllLoggedModels(ctx, mlflow.SearchLoggedModelsRequest{ExperimentIDs: []string{remoteExp}}) {
		if err != nil {
			return nil, fmt.Errorf("search the server for logged model %s: %w", id, err)
		}
		if v, _ := m.Tag(TagSourceModel); v == id {
			return &m, nil
		}
	}
	return nil, nil
}

// modelIntoRun copies a logged model's files below the server run's
// artifacts at the model's name, for a server without logged models.
func (s *syncer) modelIntoRun(ctx context.Context, lm *mlflow.LoggedModel, remote *mlflow.Run, rep *RunReport) error {
	files, err := localFiles(lm.Info.ArtifactURI)
	if err != nil {
		return err
	}
	have := map[string]int64{}
	var store artifact.Store
	if remote != nil {
		if store, err = s.dst.Artifacts(remote.Info.ArtifactURI); err != nil {
			return fmt.Errorf("server artifacts %s: %w", remote.Info.ArtifactURI, err)
		}
		if err := list(ctx, store, lm.Info.Name, have); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("list server artifacts %s: %w", remote.Info.ArtifactURI, err)
		}
	}
	for _, f := range files {
		rel := lm.Info.Name + "/" + f.rel
		if size, ok := have[rel]; ok && size == f.size {
			continue
		}
		rep.Artifacts++
		rep.ArtifactBytes += f.size
		if s.opt.DryRun {
			continue
		}
		if err := store.Upload(ctx, f.path, rel); err != nil {
			return fmt.Errorf("upload %s: %w", rel, err)
		}
	}
	return nil
}

// modelSource is where a server version of a local version made from a
// logged model comes from: models:/<server model id> on a server with
// logged models, else the model's folder in the server run's artifacts.
// The local model id is "" for a version with another source.
func (s *syncer) modelSource(ctx context.Context, lv mlflow.ModelVersion, remoteRun string) (source, modelID string, err error) {
	id := lv.ModelID
	if id == "" {
		id, _ = strings.CutPrefix(lv.Source, "models:/")
	}
	has, err := s.dst.SupportsLoggedModels(ctx)
	if err != nil {
		return "", "", err
	}
	if has {
		rid, ok := s.m.Models[id]
		if !ok {
			return "", "", fmt.Errorf("logged model %s: %w", id, ErrNotSynced)
		}
		return "models:/" + rid, rid, nil
	}
	lm, err := s.src.GetLoggedModel(ctx, id)
	if err != nil {
		return "", "", fmt.Errorf("local logged model: %w", err)
	}
	root, err := s.dst.RunArtifactURI(ctx, remoteRun)
	if err != nil {
		return "", "", fmt.Errorf("server run %s: %w", remoteRun, err)
	}
	return strings.TrimRight(root, "/") + "/" + lm.Info.Name, "", nil
}

// fromLoggedModel reports whether a local version was made from a logged
// model.
func fromLoggedModel(lv mlflow.ModelVersion) bool {
	if lv.ModelID != "" {
		return true
	}
	r, err := tracking.ParseRef(lv.Source)
	return err == nil && r.ModelID != ""
}

type localFile struct {
	path, rel string
	size      int64
}

// localFiles lists the regular files below a local artifact URI.
func localFiles(uri string) ([]localFile, error) {
	root, err := localPath(uri)
	if err != nil {
		return nil, fmt.Errorf("local artifacts: %w", err)
	}
	var files []localFile
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return filepath.SkipAll
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		files = append(files, localFile{p, filepath.ToSlash(rel), info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("local artifacts %s: %w", root, err)
	}
	return files, nil
}

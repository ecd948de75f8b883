package promote

import (
	"context"
	"iter"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/mlflow"
)

// Registry is the part of an MLflow tracking store and model registry that
// promotion, rollback and the registry listings use: *mlflow.Client (a
// tracking server) and *filestore.Store (local mode, ./mlruns) implement it.
type Registry interface {
	GetRegisteredModel(ctx context.Context, name string) (*mlflow.RegisteredModel, error)
	SetRegisteredModelTag(ctx context.Context, name, key, value string) error
	AllRegisteredModels(ctx context.Context, req mlflow.SearchRegisteredModelsRequest) iter.Seq2[mlflow.RegisteredModel, error]
	AllModelVersions(ctx context.Context, req mlflow.SearchModelVersionsRequest) iter.Seq2[mlflow.ModelVersion, error]
	GetModelVersion(ctx context.Context, name, version string) (*mlflow.ModelVersion, error)
	GetModelVersionByAlias(ctx context.Context, name, alias string) (*mlflow.ModelVersion, error)
	GetModelVersionDownloadURI(ctx context.Context, name, version string) (string, error)
	SetRegisteredModelAlias(ctx context.Context, name, alias, version string) error
	SetModelVersionTag(ctx context.Context, name, version, key, value string) error
	TransitionModelVersionStage(ctx context.Context, name, version, stage string, archiveExisting bool) (*mlflow.ModelVersion, error)

	RunArtifactURI(ctx context.Context, runID string) (string, error)
	GetOrCreateExperiment(ctx context.Context, req mlflow.CreateExperimentRequest) (*mlflow.Experiment, error)
	CreateRun(ctx context.Context, req mlflow.CreateRunRequest) (*mlflow.Run, error)
	LogBatch(ctx context.Context, runID string, b mlflow.Batch) error
	SetTag(ctx context.Context, runID, key, value string) error
	TerminateRun(ctx context.Context, runID string, status mlflow.RunStatus) error
}

// artifactStorer is a Registry that keeps its own artifacts, as the local
// file store does; its artifact URIs are paths only it knows how to read.
type artifactStorer interface {
	ArtifactStore(uri string) (artifact.Store, error)
}

// openStore opens the artifact store at uri: the registry's own when it has
// one, else the store the URI's scheme names, with a tracking server's
// client for mlflow-artifacts: URIs.
func openStore(r Registry, uri string) (artifact.Store, error) {
	if s, ok := r.(artifactStorer); ok {
		return s.ArtifactStore(uri)
	}
	c, _ := r.(*mlflow.Client)
	return artifact.Open(uri, c)
}

package tracking

import (
	"context"
	"encoding/json"
	"iter"
	"time"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/mlflow"
)

// Backend is an MLflow tracking store and model registry: a tracking server
// or a local file store. Methods have the REST API's meaning (see package
// mlflow); errors wrap package mlflow's sentinels, so errors.Is works alike
// on both. A Backend is safe for concurrent use.
type Backend interface {
	// TrackingURI is what MLFLOW_TRACKING_URI must be for MLflow's own
	// tools to read the backend: the server's URL without credentials, or
	// the local store's file:// URI.
	TrackingURI() string

	GetExperiment(ctx context.Context, id string) (*mlflow.Experiment, error)
	GetExperimentByName(ctx context.Context, name string) (*mlflow.Experiment, error)
	GetOrCreateExperiment(ctx context.Context, req mlflow.CreateExperimentRequest) (*mlflow.Experiment, error)
	SetExperimentTag(ctx context.Context, experimentID, key, value string) error
	AllExperiments(ctx context.Context, req mlflow.SearchExperimentsRequest) iter.Seq2[mlflow.Experiment, error]

	CreateRun(ctx context.Context, req mlflow.CreateRunRequest) (*mlflow.Run, error)
	GetRun(ctx context.Context, runID string) (*mlflow.Run, error)
	UpdateRun(ctx context.Context, runID string, status mlflow.RunStatus, end time.Time) (*mlflow.RunInfo, error)
	TerminateRun(ctx context.Context, runID string, status mlflow.RunStatus) error
	SetTag(ctx context.Context, runID, key, value string) error
	AllRuns(ctx context.Context, req mlflow.SearchRunsRequest) iter.Seq2[mlflow.Run, error]
	LogBatch(ctx context.Context, runID string, b mlflow.Batch) error
	LogInputs(ctx context.Context, runID string, inputs []mlflow.DatasetInput) error
	LogModel(ctx context.Context, runID string, m json.RawMessage) error
	GetMetricHistory(ctx context.Context, runID, key string) ([]mlflow.Metric, error)

	// RunArtifactURI is the root of a run's artifacts (its artifact_uri).
	RunArtifactURI(ctx context.Context, runID string) (string, error)
	// Artifacts opens the artifact store at uri, a run's artifact root or
	// a version's download URI as this backend answered it.
	Artifacts(uri string) (artifact.Store, error)

	GetOrCreateRegisteredModel(ctx context.Context, name string) (*mlflow.RegisteredModel, error)
	GetRegisteredModel(ctx context.Context, name string) (*mlflow.RegisteredModel, error)
	SetRegisteredModelTag(ctx context.Context, name, key, value string) error
	DeleteRegisteredModel(ctx context.Context, name string) error
	AllRegisteredModels(ctx context.Context, req mlflow.SearchRegisteredModelsRequest) iter.Seq2[mlflow.RegisteredModel, error]

	CreateModelVersion(ctx context.Context, req mlflow.CreateModelVersionRequest) (*mlflow.ModelVersion, error)
	WaitModelVersionReady(ctx context.Context, name, version string, timeout time.Duration) (*mlflow.ModelVersion, error)
	GetModelVersion(ctx context.Context, name, version string) (*mlflow.ModelVersion, error)
	DeleteModelVersion(ctx context.Context, name, version string) error
	SetModelVersionTag(ctx context.Context, name, version, key, value string) error
	AllModelVersions(ctx context.Context, req mlflow.SearchModelVersionsRequest) iter.Seq2[mlflow.ModelVersion, error]
	GetLatestVersions(ctx context.Context, name string, stages ...string) ([]mlflow.ModelVersion, error)
	TransitionModelVersionStage(ctx context.Context, name, version, stage string, archiveExisting bool) (*mlflow.ModelVersion, error)
	GetModelVersionDownloadURI(ctx context.Context, name, version string) (string, error)

	// SupportsLoggedModels reports whether the backend records MLflow 3
	// logged models: a server answers whether it has the API (asked once;
	// 2.x servers do not), the local store always does. Callers choose the
	// MLflow 3 layout (a model with its own artifact location, registered
	// from models:/<model_id>) or the 2.x one (the model's files under the
	// run) by this answer, never by a version string.
	SupportsLoggedModels(ctx context.Context) (bool, error)
	CreateLoggedModel(ctx context.Context, req mlflow.CreateLoggedModelRequest) (*mlflow.LoggedModel, error)
	GetLoggedModel(ctx context.Context, id string) (*mlflow.LoggedModel, error)
	FinalizeLoggedModel(ctx context.Context, id string, status mlflow.LoggedModelStatus) (*mlflow.LoggedModel, error)
	SetLoggedModelTags(ctx context.Context, id string, tags []mlflow.Tag) error
	AllLoggedModels(ctx context.Context, req mlflow.SearchLoggedModelsRequest) iter.Seq2[mlflow.LoggedModel, error]
	// LogOutputs links logged models to the run that made them.
	LogOutputs(ctx context.Context, runID string, models []mlflow.LoggedModelOutput) error

	SetRegisteredModelAlias(ctx context.Context, name, alias, version string) error
	DeleteRegisteredModelAlias(ctx context.Context, name, alias string) error
	GetModelVersionByAlias(ctx context.Context, name, alias string) (*mlflow.ModelVersion, error)
}

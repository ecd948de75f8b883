package mlflow

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"sync"
)

// LoggedModelStatus is the state of an MLflow 3 logged model.
type LoggedModelStatus string

// Logged-model states: a model is PENDING from creation until its files
// are uploaded, then READY (or UPLOAD_FAILED).
const (
	LoggedModelPending      LoggedModelStatus = "LOGGED_MODEL_PENDING"
	LoggedModelReady        LoggedModelStatus = "LOGGED_MODEL_READY"
	LoggedModelUploadFailed LoggedModelStatus = "LOGGED_MODEL_UPLOAD_FAILED"
)

// TagModelVersions is the logged-model tag listing the registered versions
// made from it, as JSON [{"name": …, "version": …}]; the server (and the
// local store) sets it when a version names the model.
const TagModelVersions = "mlflow.modelVersions"

// LoggedModel is an MLflow 3 logged model: a model with its own artifact
// location, params, metrics and tags, made by a run and registered from.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#loggedmodel
type LoggedModel struct {
	Info LoggedModelInfo `json:"info"`
	Data LoggedModelData `json:"data"`
}

// LoggedModelInfo is a logged model's metadata.
type LoggedModelInfo struct {
	ModelID                string                  `json:"model_id"`
	ExperimentID           string                  `json:"experiment_id"`
	Name                   string                  `json:"name"`
	CreationTimestampMS    int64                   `json:"creation_timestamp_ms,omitempty"`
	LastUpdatedTimestampMS int64                   `json:"last_updated_timestamp_ms,omitempty"`
	ArtifactURI            string                  `json:"artifact_uri"`
	Status                 LoggedModelStatus       `json:"status,omitempty"`
	ModelType              string                  `json:"model_type,omitempty"`
	SourceRunID            string                  `json:"source_run_id,omitempty"`
	StatusMessage          string                  `json:"status_message,omitempty"`
	Tags                   []Tag                   `json:"tags,omitempty"`
	Registrations          []LoggedModelRegistered `json:"registrations,omitempty"`
}

// LoggedModelRegistered is a registered version made from a logged model.
type LoggedModelRegistered struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// LoggedModelData is what a logged model carries: its params and the
// latest value of each metric (per dataset).
type LoggedModelData struct {
	Params  []Param  `json:"params,omitempty"`
	Metrics []Metric `json:"metrics,omitempty"`
}

// Tag returns the value of the model's tag key and whether it is set.
func (m *LoggedModel) Tag(key string) (string, bool) { return findTag(m.Info.Tags, key) }

// CreateLoggedModelRequest describes a new logged model.
type CreateLoggedModelRequest struct {
	ExperimentID string  `json:"experiment_id"`
	Name         string  `json:"name,omitempty"` // empty: the server picks a random name
	ModelType    string  `json:"model_type,omitempty"`
	SourceRunID  string  `json:"source_run_id,omitempty"`
	Params       []Param `json:"params,omitempty"`
	Tags         []Tag   `json:"tags,omitempty"`
}

// SearchLoggedModelsRequest is one page of a logged-model search.
type SearchLoggedModelsRequest struct {
	ExperimentIDs []string `json:"experiment_ids"`
	Filter        string   `json:"filter,omitempty"`
	MaxResults    int64    `json:"max_results,omitempty"` // at most 50 on a server
	PageToken     string   `json:"page_token,omitempty"`
}

// LoggedModelsPage is one page of logged models.
type LoggedModelsPage struct {
	Models        []LoggedModel `json:"models"`
	NextPageToken string        `json:"next_page_token"`
}

// LoggedModelOutput links a logged model to the run that made it (at a
// step), as a run's outputs list it.
type LoggedModelOutput struct {
	ModelID string `json:"model_id"`
	Step    int64  `json:"step"`
}

// RunOutputs are the logged models a run made (MLflow 3).
type RunOutputs struct {
	ModelOutputs []LoggedModelOutput `json:"model_outputs,omitempty"`
}

// ValidateCreateLoggedModel checks a new logged model's name, params and
// tags (_validate_logged_model_name and the param and tag rules).
func ValidateCreateLoggedModel(req CreateLoggedModelRequest) error {
	if req.ExperimentID == "" {
		return invalid("logged model: empty experiment ID")
	}
	if err := ValidateLoggedModelName(req.Name); err != nil {
		return err
	}
	for _, p := range req.Params {
		if err := ValidateParam(p.Key, p.Value); err != nil {
			return err
		}
	}
	for _, t := range req.Tags {
		if err := ValidateTag(t.Key, t.Value); err != nil {
			return err
		}
	}
	return nil
}

// probeModelID is a well-formed logged-model id that no server holds.
const probeModelID = "m-00000000000000000000000000000000"

// loggedModels caches whether the server has the logged-model API: a
// server does not lose or gain it without a restart, so it is asked once.
type loggedModels struct {
	mu     sync.Mutex
	known  bool
	answer bool
}

// SupportsLoggedModels reports whether the server has MLflow 3's logged
// models. It asks once, for a logged model that cannot exist: a server
// with the API answers RESOURCE_DOES_NOT_EXIST, one without it (2.x) has
// no such route. The answer is kept; an error (unreachable, no
// permission) is not, so a later call asks again.
func (c *Client) SupportsLoggedModels(ctx context.Context) (bool, error) {
	c.logged.mu.Lock()
	defer c.logged.mu.Unlock()
	if c.logged.known {
		return c.logged.answer, nil
	}
	_, err := c.GetLoggedModel(ctx, probeModelID)
	switch {
	case err == nil, errors.Is(err, ErrNotFound):
		c.logged.answer = true
	case errors.Is(err, ErrEndpointNotFound):
		c.logged.answer = false
	default:
		return false, fmt.Errorf("ask the server whether it has logged models: %w", err)
	}
	c.logged.known = true
	return c.logged.answer, nil
}

func loggedModelPath(id string) string {
	return "/api/2.0/mlflow/logged-models/" + url.PathEscape(id)
}

// CreateLoggedModel creates a logged model in state PENDING; its
// ArtifactURI is where its files go.
//
// A replayed create would make a second model, so this call is retried
// only when the server cannot have handled it.
func (c *Client) CreateLoggedModel(ctx context.Context, req CreateLoggedModelRequest) (*LoggedModel, error) {
	if err := ValidateCreateLoggedModel(req); err != nil {
		return nil, fmt.Errorf("create logged model: %w", err)
	}
	var out struct {
		Model LoggedModel `json:"model"`
	}
	if err := c.doOnce(ctx, "POST", "/api/2.0/mlflow/logged-models", req, &out); err != nil {
		return nil, fmt.Errorf("create logged model in experiment %s (if the connection dropped, the model may exist): %w", req.ExperimentID, err)
	}
	return &out.Model, nil
}

// GetLoggedModel returns a logged model with its params, metrics and tags.
func (c *Client) GetLoggedModel(ctx context.Context, id string) (*LoggedModel, error) {
	if err := ValidateLoggedModelID(id); err != nil {
		return nil, fmt.Errorf("get logged model: %w", err)
	}
	var out struct {
		Model LoggedModel `json:"model"`
	}
	if err := c.do(ctx, "GET", loggedModelPath(id), nil, &out); err != nil {
		return nil, fmt.Errorf("get logged model %s: %w", id, err)
	}
	return &out.Model, nil
}

// FinalizeLoggedModel sets a logged model's final status (READY once its
// files are uploaded, UPLOAD_FAILED otherwise).
func (c *Client) FinalizeLoggedModel(ctx context.Context, id string, status LoggedModelStatus) (*LoggedModel, error) {
	if err := ValidateLoggedModelID(id); err != nil {
		return nil, fmt.Errorf("finalize logged model: %w", err)
	}
	in := struct {
		ModelID string            `json:"model_id"`
		Status  LoggedModelStatus `json:"status"`
	}{id, status}
	var out struct {
		Model LoggedModel `json:"model"`
	}
	if err := c.do(ctx, "PATCH", loggedModelPath(id), in, &out); err != nil {
		return nil, fmt.Errorf("finalize logged model %s as %s: %w", id, status, err)
	}
	return &out.Model, nil
}

// SetLoggedModelTags sets tags on a logged model.
func (c *Client) SetLoggedModelTags(ctx context.Context, id string, tags []Tag) error {
	if err := ValidateLoggedModelID(id); err != nil {
		return fmt.Errorf("tag logged model: %w", err)
	}
	for _, t := range tags {
		if err := ValidateTag(t.Key, t.Value); err != nil {
			return fmt.Errorf("tag logged model %s: %w", id, err)
		}
	}
	in := struct {
		ModelID string `json:"model_id"`
		Tags    []Tag  `json:"tags"`
	}{id, tags}
	if err := c.do(ctx, "PATCH", loggedModelPath(id)+"/tags", in, nil); err != nil {
		return fmt.Errorf("tag logged model %s: %w", id, err)
	}
	return nil
}

// SearchLoggedModels returns one page of the logged models of experiments.
func (c *Client) SearchLoggedModels(ctx context.Context, req SearchLoggedModelsRequest) (*LoggedModelsPage, error) {
	var out LoggedModelsPage
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/logged-models/search", req, &out); err != nil {
		return nil, fmt.Errorf("search logged models: %w", err)
	}
	return &out, nil
}

// AllLoggedModels yields every logged model a search matches, page by page.
func (c *Client) AllLoggedModels(ctx context.Context, req SearchLoggedModelsRequest) iter.Seq2[LoggedModel, error] {
	return Paginate(req.PageToken, func(token string) ([]LoggedModel, string, error) {
		req.PageToken = token
		page, err := c.SearchLoggedModels(ctx, req)
		if err != nil {
			return nil, "", err
		}
		return page.Models, page.NextPageToken, nil
	})
}

// LogOutputs records logged models as outputs of a run; the UI lists them
// on the run's page and the run's outputs name them.
func (c *Client) LogOutputs(ctx context.Context, runID string, models []LoggedModelOutput) error {
	for _, m := range models {
		if err := ValidateLoggedModelID(m.ModelID); err != nil {
			return fmt.Errorf("log outputs of run %s: %w", runID, err)
		}
	}
	in := struct {
		RunID  string              `json:"run_id"`
		Models []LoggedModelOutput `json:"models"`
	}{runID, models}
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/runs/outputs", in, nil); err != nil {
		return fmt.Errorf("log outputs of run %s: %w", runID, err)
	}
	return nil
}

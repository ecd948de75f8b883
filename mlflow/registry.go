package mlflow

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strings"
	"time"
)

// This file holds the Model Registry: registered models, model versions,
// stages and aliases. REST reference:
// https://mlflow.org/docs/latest/api_reference/rest-api.html#create-registeredmodel
// and the sections after it (the paths are in model_registry.proto).
//
// Checked against the stack's servers (MLflow 2.9.2 and 3.17): both serve
// aliases and stages alike; a missing alias is INVALID_PARAMETER_VALUE (400)
// "Registered model alias X not found." on both, and 2.9.2 answers the same
// when the model itself is missing (3.x: RESOURCE_DOES_NOT_EXIST); deleting
// a missing alias succeeds; racing creates of one name give one success
// and RESOURCE_ALREADY_EXISTS for the rest; versions with s3:// sources are
// READY at once.

// Model version statuses (ModelVersionStatus in the REST API).
const (
	StatusPendingRegistration = "PENDING_REGISTRATION"
	StatusFailedRegistration  = "FAILED_REGISTRATION"
	StatusReady               = "READY"
)

// RegisteredModel is a named model in the registry.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#registeredmodel
type RegisteredModel struct {
	Name                 string `json:"name"`
	CreationTimestamp    int64  `json:"creation_timestamp,omitempty"` // ms since the epoch
	LastUpdatedTimestamp int64  `json:"last_updated_timestamp,omitempty"`
	UserID               string `json:"user_id,omitempty"`
	Description          string `json:"description,omitempty"`
	// LatestVersions holds the latest version of each stage.
	LatestVersions []ModelVersion `json:"latest_versions,omitempty"`
	Tags           []Tag          `json:"tags,omitempty"`
	Aliases        []ModelAlias   `json:"aliases,omitempty"`
}

// ModelAlias is an alias of a registered model and the version it names.
type ModelAlias struct {
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

// Tag returns the value of the model's tag key and whether it is set.
func (m *RegisteredModel) Tag(key string) (string, bool) { return findTag(m.Tags, key) }

// AliasVersion returns the version that alias names and whether it is set.
func (m *RegisteredModel) AliasVersion(alias string) (string, bool) {
	for _, a := range m.Aliases {
		if a.Alias == alias {
			return a.Version, true
		}
	}
	return "", false
}

// ModelVersion is one version of a registered model.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#modelversion
type ModelVersion struct {
	Name                 string `json:"name"`
	Version              string `json:"version"` // an integer, as a string like the REST API
	CreationTimestamp    int64  `json:"creation_timestamp,omitempty"`
	LastUpdatedTimestamp int64  `json:"last_updated_timestamp,omitempty"`
	UserID               string `json:"user_id,omitempty"`
	CurrentStage         string `json:"current_stage,omitempty"`
	Description          string `json:"description,omitempty"`
	Source               string `json:"source,omitempty"`
	RunID                string `json:"run_id,omitempty"`
	Status               string `json:"status,omitempty"` // StatusReady, StatusPendingRegistration, …
	StatusMessage        string `json:"status_message,omitempty"`
	Tags                 []Tag  `json:"tags,omitempty"`
	RunLink              string `json:"run_link,omitempty"`
	// Aliases is filled by get and get-by-alias; searches may leave it empty.
	Aliases []string `json:"aliases,omitempty"`
	// ModelID is the logged model (3.x servers only).
	ModelID string `json:"model_id,omitempty"`
}

// Tag returns the value of the version's tag key and whether it is set.
func (v *ModelVersion) Tag(key string) (string, bool) { return findTag(v.Tags, key) }

func findTag(tags []Tag, key string) (string, bool) {
	for _, t := range tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// CreateRegisteredModelRequest describes a new registered model.
type CreateRegisteredModelRequest struct {
	Name        string `json:"name"`
	Tags        []Tag  `json:"tags,omitempty"`
	Description string `json:"description,omitempty"`
}

// CreateModelVersionRequest describes a new model version. Source is where
// its files are, usually the run's artifact URI plus the model directory
// (s3://mlflow/1/<run>/artifacts/model).
type CreateModelVersionRequest struct {
	Name        string `json:"name"`
	Source      string `json:"source"`
	RunID       string `json:"run_id,omitempty"`
	Tags        []Tag  `json:"tags,omitempty"`
	RunLink     string `json:"run_link,omitempty"`
	Description string `json:"description,omitempty"`
	// ModelID is the logged model the version is made from (MLflow 3
	// servers only); Source is then models:/<ModelID>.
	ModelID string `json:"model_id,omitempty"`
}

// SearchRegisteredModelsRequest is one page of a registered-model search.
type SearchRegisteredModelsRequest struct {
	Filter     string   `json:"filter,omitempty"` // e.g. "name LIKE 'credit%'"
	OrderBy    []string `json:"order_by,omitempty"`
	MaxResults int64    `json:"max_results,omitempty"` // server default 100, at most 1000
	PageToken  string   `json:"page_token,omitempty"`
}

// RegisteredModelsPage is one page of registered models.
type RegisteredModelsPage struct {
	RegisteredModels []RegisteredModel `json:"registered_models"`
	NextPageToken    string            `json:"next_page_token"`
}

// SearchModelVersionsRequest is one page of a model-version search.
type SearchModelVersionsRequest struct {
	Filter     string   `json:"filter,omitempty"` // e.g. "name='credit'", "run_id='…'", "tags.k='v'"
	OrderBy    []string `json:"order_by,omitempty"`
	MaxResults int64    `json:"max_results,omitempty"`
	PageToken  string   `json:"page_token,omitempty"`
}

// ModelVersionsPage is one page of model versions.
type ModelVersionsPage struct {
	ModelVersions []ModelVersion `json:"model_versions"`
	NextPageToken string         `json:"next_page_token"`
}

// AliasNotFoundError says that a registered model has no such alias.
// errors.Is(err, ErrNotFound) holds for it: servers report a missing alias
// as INVALID_PARAMETER_VALUE (400), which would otherwise look like a bad
// request rather than an absent resource.
type AliasNotFoundError struct {
	Name, Alias string
	Message     string // the server's message
}

func (e *AliasNotFoundError) Error() string {
	return fmt.Sprintf("alias %q of registered model %q not found (%s)", e.Alias, e.Name, e.Message)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *AliasNotFoundError) Is(target error) bool { return target == ErrNotFound }

// RegistrationError says that the server failed to register a model version
// (status FAILED_REGISTRATION).
type RegistrationError struct {
	Name, Version string
	Message       string // the version's status_message
}

func (e *RegistrationError) Error() string {
	return fmt.Sprintf("model %q version %s: registration failed: %s", e.Name, e.Version, e.Message)
}

// CreateRegisteredModel creates a registered model. A taken name gives an
// error for which errors.Is(err, ErrAlreadyExists) holds; see
// GetOrCreateRegisteredModel.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#create-registeredmodel
func (c *Client) CreateRegisteredModel(ctx context.Context, req CreateRegisteredModelRequest) (*RegisteredModel, error) {
	if req.Name == "" {
		return nil, errors.New("create registered model: empty name")
	}
	var out struct {
		RegisteredModel RegisteredModel `json:"registered_model"`
	}
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/registered-models/create", req, &out); err != nil {
		return nil, fmt.Errorf("create registered model %q: %w", req.Name, err)
	}
	return &out.RegisteredModel, nil
}

// GetOrCreateRegisteredModel returns the registered model, creating it if it
// does not exist. Several processes may call it at once for the same name:
// the losers of the race get the winner's model.
func (c *Client) GetOrCreateRegisteredModel(ctx context.Context, name string) (*RegisteredModel, error) {
	m, err := c.GetRegisteredModel(ctx, name)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return m, err
	}
	m, err = c.CreateRegisteredModel(ctx, CreateRegisteredModelRequest{Name: name})
	if err == nil || !errors.Is(err, ErrAlreadyExists) {
		return m, err
	}
	return c.GetRegisteredModel(ctx, name)
}

// GetRegisteredModel returns a registered model with its latest versions
// per stage, tags and aliases.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#get-registeredmodel
func (c *Client) GetRegisteredModel(ctx context.Context, name string) (*RegisteredModel, error) {
	var out struct {
		RegisteredModel RegisteredModel `json:"registered_model"`
	}
	if err := c.do(ctx, "GET", "/api/2.0/mlflow/registered-models/get", url.Values{"name": {name}}, &out); err != nil {
		return nil, fmt.Errorf("get registered model %q: %w", name, err)
	}
	return &out.RegisteredModel, nil
}

// SearchRegisteredModels returns one page of registered models.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#search-registeredmodels
func (c *Client) SearchRegisteredModels(ctx context.Context, req SearchRegisteredModelsRequest) (*RegisteredModelsPage, error) {
	var out RegisteredModelsPage
	if err := c.do(ctx, "GET", "/api/2.0/mlflow/registered-models/search", req, &out); err != nil {
		return nil, fmt.Errorf("search registered models %q: %w", req.Filter, err)
	}
	return &out, nil
}

// AllRegisteredModels yields every registered model matching req, following
// page tokens from req.PageToken on. It stops after the first error.
func (c *Client) AllRegisteredModels(ctx context.Context, req SearchRegisteredModelsRequest) iter.Seq2[RegisteredModel, error] {
	return Paginate(req.PageToken, func(token string) ([]RegisteredModel, string, error) {
		req.PageToken = token
		page, err := c.SearchRegisteredModels(ctx, req)
		if err != nil {
			return nil, "", err
		}
		return page.RegisteredModels, page.NextPageToken, nil
	})
}

// DeleteRegisteredModel deletes a registered model and all its versions.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#delete-registeredmodel
func (c *Client) DeleteRegisteredModel(ctx context.Context, name string) error {
	in := struct {
		Name string `json:"name"`
	}{name}
	if err := c.do(ctx, "DELETE", "/api/2.0/mlflow/registered-models/delete", in, nil); err != nil {
		return fmt.Errorf("delete registered model %q: %w", name, err)
	}
	return nil
}

// SetRegisteredModelTag sets (or overwrites) a tag of a registered model.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#set-registered-model-tag
func (c *Client) SetRegisteredModelTag(ctx context.Context, name, key, value string) error {
	in := struct {
		Name  string `json:"name"`
		Key   string `json:"key"`
		Value string `json:"value"`
	}{name, key, value}
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/registered-models/set-tag", in, nil); err != nil {
		return fmt.Errorf("set tag %q of registered model %q: %w", key, name, err)
	}
	return nil
}

// CreateModelVersion registers a new version. It may still be
// PENDING_REGISTRATION: call WaitModelVersionReady before using it.
//
// A replayed create would make a second version, so, like CreateRun, it is
// retried only when the server cannot have handled the first attempt.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#create-modelversion
func (c *Client) CreateModelVersion(ctx context.Context, req CreateModelVersionRequest) (*ModelVersion, error) {
	if req.Name == "" || req.Source == "" {
		return nil, fmt.Errorf("create model version: name %q and source %q are both required", req.Name, req.Source)
	}
	var out struct {
		ModelVersion ModelVersion `json:"model_version"`
	}
	if err := c.doOnce(ctx, "POST", "/api/2.0/mlflow/model-versions/create", req, &out); err != nil {
		return nil, fmt.Errorf("create version of model %q from %s: %w", req.Name, req.Source, err)
	}
	return &out.ModelVersion, nil
}

// WaitModelVersionReady polls the version until it is READY and returns it.
// It fails with a *RegistrationError on FAILED_REGISTRATION, and with an
// error naming the last status when timeout (or ctx) runs out first.
func (c *Client) WaitModelVersionReady(ctx context.Context, name, version string, timeout time.Duration) (*ModelVersion, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 100 * time.Millisecond
	last := ""
	stillErr := func() error {
		return fmt.Errorf("wait for model %q version %s: still %s after %v: %w",
			name, version, last, timeout, ctx.Err())
	}
	for {
		mv, err := c.GetModelVersion(ctx, name, version)
		if err != nil {
			// The deadline may strike during a request: say what the
			// version was last seen as, as between requests.
			if last != "" && ctx.Err() != nil {
				return nil, stillErr()
			}
			return nil, fmt.Errorf("wait for model %q version %s: %w", name, version, err)
		}
		last = mv.Status
		switch mv.Status {
		case StatusReady:
			return mv, nil
		case StatusFailedRegistration:
			return nil, &RegistrationError{Name: name, Version: version, Message: mv.StatusMessage}
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, stillErr()
		case <-t.C:
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// GetModelVersion returns one version of a registered model.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#get-modelversion
func (c *Client) GetModelVersion(ctx context.Context, name, version string) (*ModelVersion, error) {
	var out struct {
		ModelVersion ModelVersion `json:"model_version"`
	}
	q := url.Values{"name": {name}, "version": {version}}
	if err := c.do(ctx, "GET", "/api/2.0/mlflow/model-versions/get", q, &out); err != nil {
		return nil, fmt.Errorf("get model %q version %s: %w", name, version, err)
	}
	return &out.ModelVersion, nil
}

// SearchModelVersions returns one page of model versions.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#search-modelversions
func (c *Client) SearchModelVersions(ctx context.Context, req SearchModelVersionsRequest) (*ModelVersionsPage, error) {
	var out ModelVersionsPage
	if err := c.do(ctx, "GET", "/api/2.0/mlflow/model-versions/search", req, &out); err != nil {
		return nil, fmt.Errorf("search model versions %q: %w", req.Filter, err)
	}
	return &out, nil
}

// AllModelVersions yields every model version matching req, following page
// tokens from req.PageToken on. It stops after the first error.
func (c *Client) AllModelVersions(ctx context.Context, req SearchModelVersionsRequest) iter.Seq2[ModelVersion, error] {
	return Paginate(req.PageToken, func(token string) ([]ModelVersion, string, error) {
		req.PageToken = token
		page, err := c.SearchModelVersions(ctx, req)
		if err != nil {
			return nil, "", err
		}
		return page.ModelVersions, page.NextPageToken, nil
	})
}

// UpdateModelVersion replaces the description of a model version.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#update-modelversion
func (c *Client) UpdateModelVersion(ctx context.Context, name, version, description string) (*ModelVersion, error) {
	in := struct {
		Name        string `json:"name"`
		Version     string `json:"version"`
		Description string `json:"description"`
	}{name, version, description}
	var out struct {
		ModelVersion ModelVersion `json:"model_version"`
	}
	if err := c.do(ctx, "PATCH", "/api/2.0/mlflow/model-versions/update", in, &out); err != nil {
		return nil, fmt.Errorf("update model %q version %s: %w", name, version, err)
	}
	return &out.ModelVersion, nil
}

// SetModelVersionTag sets (or overwrites) a tag of a model version.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#set-model-version-tag
func (c *Client) SetModelVersionTag(ctx context.Context, name, version, key, value string) error {
	in := struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Key     string `json:"key"`
		Value   string `json:"value"`
	}{name, version, key, value}
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/model-versions/set-tag", in, nil); err != nil {
		return fmt.Errorf("set tag %q of model %q version %s: %w", key, name, version, err)
	}
	return nil
}

// DeleteModelVersionTag deletes a tag of a model version.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#delete-model-version-tag
func (c *Client) DeleteModelVersionTag(ctx context.Context, name, version, key string) error {
	in := struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Key     string `json:"key"`
	}{name, version, key}
	if err := c.do(ctx, "DELETE", "/api/2.0/mlflow/model-versions/delete-tag", in, nil); err != nil {
		return fmt.Errorf("delete tag %q of model %q version %s: %w", key, name, version, err)
	}
	return nil
}

// GetLatestVersions returns the latest READY version of each given stage,
// or of every stage (None included) when stages is empty.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#get-latest-modelversions
func (c *Client) GetLatestVersions(ctx context.Context, name string, stages ...string) ([]ModelVersion, error) {
	in := struct {
		Name   string   `json:"name"`
		Stages []string `json:"stages,omitempty"`
	}{name, stages}
	var out struct {
		ModelVersions []ModelVersion `json:"model_versions"`
	}
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/registered-models/get-latest-versions", in, &out); err != nil {
		return nil, fmt.Errorf("get latest versions of model %q (stages %s): %w", name, strings.Join(stages, ","), err)
	}
	return out.ModelVersions, nil
}

// TransitionModelVersionStage moves a version to stage. With
// archiveExisting, the versions already in stage (Staging or Production
// only) move to Archived.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#transition-modelversion-stage
func (c *Client) TransitionModelVersionStage(ctx context.Context, name, version, stage string, archiveExisting bool) (*ModelVersion, error) {
	in := struct {
		Name            string `json:"name"`
		Version         string `json:"version"`
		Stage           string `json:"stage"`
		ArchiveExisting bool   `json:"archive_existing_versions"`
	}{name, version, stage, archiveExisting}
	var out struct {
		ModelVersion ModelVersion `json:"model_version"`
	}
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/model-versions/transition-stage", in, &out); err != nil {
		return nil, fmt.Errorf("move model %q version %s to stage %s: %w", name, version, stage, err)
	}
	return &out.ModelVersion, nil
}

// GetModelVersionDownloadURI returns where the files of a version are
// stored (on 3.x servers this resolves models:/m-… sources to the logged
// model's artifact location).
// https://mlflow.org/docs/latest/api_reference/rest-api.html#get-download-uri-for-modelversion-artifacts
func (c *Client) GetModelVersionDownloadURI(ctx context.Context, name, version string) (string, error) {
	var out struct {
		ArtifactURI string `json:"artifact_uri"`
	}
	q := url.Values{"name": {name}, "version": {version}}
	if err := c.do(ctx, "GET", "/api/2.0/mlflow/model-versions/get-download-uri", q, &out); err != nil {
		return "", fmt.Errorf("get download URI of model %q version %s: %w", name, version, err)
	}
	return out.ArtifactURI, nil
}

// SetRegisteredModelAlias points alias at a version, moving it if it
// already points elsewhere.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#set-registered-model-alias
func (c *Client) SetRegisteredModelAlias(ctx context.Context, name, alias, version string) error {
	if err := ValidateAlias(alias); err != nil {
		return fmt.Errorf("set alias of model %q: %w", name, err)
	}
	in := struct {
		Name    string `json:"name"`
		Alias   string `json:"alias"`
		Version string `json:"version"`
	}{name, alias, version}
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/registered-models/alias", in, nil); err != nil {
		return fmt.Errorf("set alias %q of model %q to version %s: %w", alias, name, version, err)
	}
	return nil
}

// DeleteRegisteredModelAlias removes an alias.
// https://mlflow.org/docs/latest/api_reference/rest-api.html#delete-registered-model-alias
func (c *Client) DeleteRegisteredModelAlias(ctx context.Context, name, alias string) error {
	in := struct {
		Name  string `json:"name"`
		Alias string `json:"alias"`
	}{name, alias}
	if err := c.do(ctx, "DELETE", "/api/2.0/mlflow/registered-models/alias", in, nil); err != nil {
		return fmt.Errorf("delete alias %q of model %q: %w", alias, name, asAliasError(err, name, alias))
	}
	return nil
}

// GetModelVersionByAlias returns the version an alias points at. A missing
// alias gives an *AliasNotFoundError (errors.Is(err, ErrNotFound) holds).
// https://mlflow.org/docs/latest/api_reference/rest-api.html#get-model-version-by-alias
func (c *Client) GetModelVersionByAlias(ctx context.Context, name, alias string) (*ModelVersion, error) {
	var out struct {
		ModelVersion ModelVersion `json:"model_version"`
	}
	q := url.Values{"name": {name}, "alias": {alias}}
	if err := c.do(ctx, "GET", "/api/2.0/mlflow/registered-models/alias", q, &out); err != nil {
		return nil, fmt.Errorf("get model %q by alias %q: %w", name, alias, asAliasError(err, name, alias))
	}
	return &out.ModelVersion, nil
}

// asAliasError turns the server's "Registered model alias X not found."
// (INVALID_PARAMETER_VALUE, 400) into an *AliasNotFoundError and returns
// any other error unchanged.
func asAliasError(err error, name, alias string) error {
	var api *APIError
	if !errors.As(err, &api) {
		return err
	}
	msg := strings.ToLower(api.Message)
	if strings.Contains(msg, "alias") && strings.Contains(msg, "not found") {
		return &AliasNotFoundError{Name: name, Alias: alias, Message: api.Message}
	}
	return err
}

package mlflow

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
)

// Tag is a key/value pair on an experiment, run or model.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Experiment is an MLflow experiment.
type Experiment struct {
	ID               string `json:"experiment_id"`
	Name             string `json:"name"`
	ArtifactLocation string `json:"artifact_location,omitempty"`
	LifecycleStage   string `json:"lifecycle_stage,omitempty"` // "active" or "deleted"
	CreationTime     int64  `json:"creation_time,omitempty"`   // ms since the epoch
	LastUpdateTime   int64  `json:"last_update_time,omitempty"`
	Tags             []Tag  `json:"tags,omitempty"`
}

// CreateExperimentRequest describes a new experiment.
type CreateExperimentRequest struct {
	Name             string `json:"name"`
	ArtifactLocation string `json:"artifact_location,omitempty"` // default: the server's artifact root
	Tags             []Tag  `json:"tags,omitempty"`
}

// GetExperiment returns the experiment with the given ID.
func (c *Client) GetExperiment(ctx context.Context, id string) (*Experiment, error) {
	var out struct {
		Experiment Experiment `json:"experiment"`
	}
	if err := c.do(ctx, "GET", "/api/2.0/mlflow/experiments/get", url.Values{"experiment_id": {id}}, &out); err != nil {
		return nil, fmt.Errorf("get experiment %s: %w", id, err)
	}
	return &out.Experiment, nil
}

// GetExperimentByName returns the experiment with the given name (an active
// one in preference to a deleted one); ErrNotFound when there is none.
func (c *Client) GetExperimentByName(ctx context.Context, name string) (*Experiment, error) {
	var out struct {
		Experiment Experiment `json:"experiment"`
	}
	if err := c.do(ctx, "GET", "/api/2.0/mlflow/experiments/get-by-name", url.Values{"experiment_name": {name}}, &out); err != nil {
		return nil, fmt.Errorf("get experiment %q: %w", name, err)
	}
	return &out.Experiment, nil
}

// CreateExperiment creates an experiment and returns its ID; ErrAlreadyExists
// when the name is taken (also by a deleted experiment).
func (c *Client) CreateExperiment(ctx context.Context, req CreateExperimentRequest) (string, error) {
	if req.Name == "" {
		return "", errors.New("create experiment: empty name")
	}
	for _, t := range req.Tags {
		if err := ValidateTag(t.Key, t.Value); err != nil {
			return "", fmt.Errorf("create experiment %q: %w", req.Name, err)
		}
	}
	var out struct {
		ID string `json:"experiment_id"`
	}
	// Replaying is safe: a second create of the same name fails with
	// RESOURCE_ALREADY_EXISTS instead of duplicating.
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/experiments/create", req, &out); err != nil {
		return "", fmt.Errorf("create experiment %q: %w", req.Name, err)
	}
	return out.ID, nil
}

// GetOrCreateExperiment returns the active experiment named req.Name,
// creating it when missing. It is safe when several processes race: the
// loser's create fails with RESOURCE_ALREADY_EXISTS and it reads the
// winner's experiment. A deleted experiment of that name is an error, as in
// the Python client's set_experiment: restore it or pick another name.
func (c *Client) GetOrCreateExperiment(ctx context.Context, req CreateExperimentRequest) (*Experiment, error) {
	exp, err := c.GetExperimentByName(ctx, req.Name)
	if err == nil {
		return checkActive(exp)
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	id, err := c.CreateExperiment(ctx, req)
	switch {
	case err == nil:
		return c.GetExperiment(ctx, id)
	case errors.Is(err, ErrAlreadyExists):
		exp, err := c.GetExperimentByName(ctx, req.Name)
		if err != nil {
			return nil, err
		}
		return checkActive(exp)
	}
	return nil, err
}

func checkActive(exp *Experiment) (*Experiment, error) {
	if exp.LifecycleStage == "deleted" {
		return nil, fmt.Errorf("experiment %q (id %s) is deleted: restore it or use another name", exp.Name, exp.ID)
	}
	return exp, nil
}

// SetExperimentTag sets (or overwrites) a tag on an experiment.
func (c *Client) SetExperimentTag(ctx context.Context, experimentID, key, value string) error {
	if err := ValidateTag(key, value); err != nil {
		return fmt.Errorf("set experiment %s tag: %w", experimentID, err)
	}
	in := map[string]string{"experiment_id": experimentID, "key": key, "value": value}
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/experiments/set-experiment-tag", in, nil); err != nil {
		return fmt.Errorf("set experiment %s tag %q: %w", experimentID, key, err)
	}
	return nil
}

// ViewType selects active, deleted or all entities in searches.
type ViewType string

// View types; the zero value is ActiveOnly on the server.
const (
	ActiveOnly  ViewType = "ACTIVE_ONLY"
	DeletedOnly ViewType = "DELETED_ONLY"
	AllViews    ViewType = "ALL"
)

// SearchExperimentsRequest is one page of an experiment search.
type SearchExperimentsRequest struct {
	Filter     string   `json:"filter,omitempty"` // e.g. "name LIKE 'credit-%'"
	OrderBy    []string `json:"order_by,omitempty"`
	MaxResults int64    `json:"max_results,omitempty"` // 0: 1000
	PageToken  string   `json:"page_token,omitempty"`
	ViewType   ViewType `json:"view_type,omitempty"`
}

// ExperimentsPage is one page of search results.
type ExperimentsPage struct {
	Experiments   []Experiment `json:"experiments"`
	NextPageToken string       `json:"next_page_token"`
}

// SearchExperiments returns one page of experiments.
func (c *Client) SearchExperiments(ctx context.Context, req SearchExperimentsRequest) (*ExperimentsPage, error) {
	if req.MaxResults == 0 {
		// The servers refuse a missing max_results (proto default 0).
		req.MaxResults = 1000
	}
	var out ExperimentsPage
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/experiments/search", req, &out); err != nil {
		return nil, fmt.Errorf("search experiments: %w", err)
	}
	return &out, nil
}

// AllExperiments yields every experiment matching req, following page
// tokens from req.PageToken on. It stops after the first error.
func (c *Client) AllExperiments(ctx context.Context, req SearchExperimentsRequest) iter.Seq2[Experiment, error] {
	return Paginate(req.PageToken, func(token string) ([]Experiment, string, error) {
		req.PageToken = token
		page, err := c.SearchExperiments(ctx, req)
		if err != nil {
			return nil, "", err
		}
		return page.Experiments, page.NextPageToken, nil
	})
}

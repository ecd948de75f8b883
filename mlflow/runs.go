package mlflow

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"os"
	"os/user"
	"runtime/debug"
	"time"
)

// RunStatus is the state of a run.
type RunStatus string

// Run states.
const (
	RunRunning   RunStatus = "RUNNING"
	RunScheduled RunStatus = "SCHEDULED"
	RunFinished  RunStatus = "FINISHED"
	RunFailed    RunStatus = "FAILED"
	RunKilled    RunStatus = "KILLED"
)

// System tag keys the Python client and the UI use.
const (
	TagUser           = "mlflow.user"
	TagSourceName     = "mlflow.source.name"
	TagSourceType     = "mlflow.source.type"
	TagRunName        = "mlflow.runName"
	TagGitCommit      = "mlflow.source.git.commit"
	TagGitBranch      = "mlflow.source.git.branch"
	TagGitRepoURL     = "mlflow.source.git.repoURL"
	TagParentRunID    = "mlflow.parentRunId"
	TagNote           = "mlflow.note.content"
	TagDatasetCtx     = "mlflow.data.context" // input tag: "training", "eval", …
	SourceTypeLocal   = "LOCAL"
	SourceTypeJob     = "JOB"
	SourceTypeUnknown = "UNKNOWN"
)

// RunInfo is a run's metadata.
type RunInfo struct {
	RunID          string    `json:"run_id"`
	RunName        string    `json:"run_name,omitempty"`
	ExperimentID   string    `json:"experiment_id"`
	UserID         string    `json:"user_id,omitempty"`
	Status         RunStatus `json:"status"`
	StartTime      int64     `json:"start_time,omitempty"` // ms since the epoch
	EndTime        int64     `json:"end_time,omitempty"`
	ArtifactURI    string    `json:"artifact_uri,omitempty"`
	LifecycleStage string    `json:"lifecycle_stage,omitempty"`
}

// Param is a run parameter; params cannot change once logged.
type Param struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// RunData is what a run logged: the latest value of each metric, the params
// and the tags.
type RunData struct {
	Metrics []Metric `json:"metrics,omitempty"`
	Params  []Param  `json:"params,omitempty"`
	Tags    []Tag    `json:"tags,omitempty"`
}

// RunInputs are the datasets a run used.
type RunInputs struct {
	DatasetInputs []DatasetInput `json:"dataset_inputs,omitempty"`
}

// Run is an MLflow run.
type Run struct {
	Info   RunInfo   `json:"info"`
	Data   RunData   `json:"data"`
	Inputs RunInputs `json:"inputs"`
	// Outputs are the logged models the run made (MLflow 3 only).
	Outputs RunOutputs `json:"outputs"`
}

// Tag returns the value of the run's tag key and whether it is set.
func (r *Run) Tag(key string) (string, bool) {
	for _, t := range r.Data.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// Param returns the value of the run's param key and whether it is set.
func (r *Run) Param(key string) (string, bool) {
	for _, p := range r.Data.Params {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// Source says who started a run from where; its Tags are the system tags
// the Python client's context providers set, so runs look native in the UI.
type Source struct {
	User      string // mlflow.user
	Name      string // mlflow.source.name: the program
	Type      string // mlflow.source.type: LOCAL, JOB, …
	GitCommit string // mlflow.source.git.commit
	GitBranch string
	GitRepo   string
}

// SourceFromEnv fills Source as the Python client does for a local script,
// reading the environment through getenv: the user from
// MLFLOW_TRACKING_USERNAME (or ~/.mlflow/credentials) or the login name,
// the program path (os.Args[0]), type LOCAL, and the commit the binary was
// built from (Go's VCS stamp) in place of the script's checkout.
func SourceFromEnv(getenv func(string) string) Source {
	s := Source{Type: SourceTypeLocal}
	// The Python client: the tracking user name (variable, then
	// credentials file), else getpass.getuser(), which reads these
	// variables before the account database.
	getenv = withCredentialsFile(getenv, credentialsPath(getenv))
	for _, name := range []string{"MLFLOW_TRACKING_USERNAME", "LOGNAME", "USER", "LNAME", "USERNAME"} {
		if s.User = getenv(name); s.User != "" {
			break
		}
	}
	if s.User == "" {
		if u, err := user.Current(); err == nil && u.Username != "" {
			s.User = u.Username
		} else {
			s.User = "unknown"
		}
	}
	if len(os.Args) > 0 && os.Args[0] != "" {
		s.Name = os.Args[0]
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" {
				s.GitCommit = kv.Value
			}
		}
	}
	return s
}

// Tags returns the system tags for s, skipping empty fields.
func (s Source) Tags() []Tag {
	var tags []Tag
	add := func(k, v string) {
		if v != "" {
			tags = append(tags, Tag{k, v})
		}
	}
	add(TagUser, s.User)
	add(TagSourceName, s.Name)
	add(TagSourceType, s.Type)
	add(TagGitCommit, s.GitCommit)
	add(TagGitBranch, s.GitBranch)
	add(TagGitRepoURL, s.GitRepo)
	return tags
}

// CreateRunRequest describes a new run.
type CreateRunRequest struct {
	ExperimentID string
	RunName      string    // empty: the server picks a random name
	StartTime    time.Time // zero: now
	Tags         []Tag     // e.g. SourceFromEnv(os.Getenv).Tags(); mlflow.user also sets the run's user_id
}

// CreateRun starts a run in state RUNNING.
//
// A replayed create would make a second run, so this call is retried only
// when the server cannot have handled it (connection refused, 429, 503);
// after a dropped connection the error says the run may exist.
func (c *Client) CreateRun(ctx context.Context, req CreateRunRequest) (*Run, error) {
	if req.ExperimentID == "" {
		return nil, errors.New("create run: empty experiment ID")
	}
	start := req.StartTime
	if start.IsZero() {
		start = time.Now()
	}
	in := struct {
		ExperimentID string `json:"experiment_id"`
		UserID       string `json:"user_id,omitempty"`
		RunName      string `json:"run_name,omitempty"`
		StartTime    int64  `json:"start_time"`
		Tags         []Tag  `json:"tags,omitempty"`
	}{ExperimentID: req.ExperimentID, RunName: req.RunName, StartTime: start.UnixMilli(), Tags: req.Tags}
	for _, t := range req.Tags {
		if err := ValidateTag(t.Key, t.Value); err != nil {
			return nil, fmt.Errorf("create run in experiment %s: %w", req.ExperimentID, err)
		}
		if t.Key == TagUser {
			in.UserID = t.Value // the Python client does the same
		}
	}
	var out struct {
		Run Run `json:"run"`
	}
	if err := c.doOnce(ctx, "POST", "/api/2.0/mlflow/runs/create", in, &out); err != nil {
		return nil, fmt.Errorf("create run in experiment %s (if the connection dropped, the run may exist): %w", req.ExperimentID, err)
	}
	return &out.Run, nil
}

// UpdateRun sets a run's status and end time (zero end: unchanged).
func (c *Client) UpdateRun(ctx context.Context, runID string, status RunStatus, end time.Time) (*RunInfo, error) {
	in := map[string]any{"run_id": runID, "run_uuid": runID, "status": status}
	if !end.IsZero() {
		in["end_time"] = end.UnixMilli()
	}
	var out struct {
		RunInfo RunInfo `json:"run_info"`
	}
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/runs/update", in, &out); err != nil {
		return nil, fmt.Errorf("update run %s to %s: %w", runID, status, err)
	}
	return &out.RunInfo, nil
}

// TerminateRun ends a run with status (FINISHED, FAILED or KILLED) now.
func (c *Client) TerminateRun(ctx context.Context, runID string, status RunStatus) error {
	switch status {
	case RunFinished, RunFailed, RunKilled:
	default:
		return fmt.Errorf("terminate run %s: status %q is not FINISHED, FAILED or KILLED", runID, status)
	}
	_, err := c.UpdateRun(ctx, runID, status, time.Now())
	return err
}

// GetRun returns a run with its latest metrics, params, tags and inputs.
func (c *Client) GetRun(ctx context.Context, runID string) (*Run, error) {
	var out struct {
		Run Run `json:"run"`
	}
	if err := c.do(ctx, "GET", "/api/2.0/mlflow/runs/get", url.Values{"run_id": {runID}}, &out); err != nil {
		return nil, fmt.Errorf("get run %s: %w", runID, err)
	}
	return &out.Run, nil
}

// SetTag sets (or overwrites) a run tag; setting mlflow.runName renames the run.
func (c *Client) SetTag(ctx context.Context, runID, key, value string) error {
	if err := ValidateTag(key, value); err != nil {
		return fmt.Errorf("set tag on run %s: %w", runID, err)
	}
	in := map[string]string{"run_id": runID, "run_uuid": runID, "key": key, "value": value}
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/runs/set-tag", in, nil); err != nil {
		return fmt.Errorf("set tag %q on run %s: %w", key, runID, err)
	}
	return nil
}

// DeleteTag removes a run tag; ErrNotFound when it is not set.
func (c *Client) DeleteTag(ctx context.Context, runID, key string) error {
	in := map[string]string{"run_id": runID, "key": key}
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/runs/delete-tag", in, nil); err != nil {
		return fmt.Errorf("delete tag %q of run %s: %w", key, runID, err)
	}
	return nil
}

// SearchRunsRequest is one page of a run search.
type SearchRunsRequest struct {
	ExperimentIDs []string `json:"experiment_ids"`
	Filter        string   `json:"filter,omitempty"` // e.g. "metrics.auc > 0.7 and tags.`mlflow.runName` = 'x'"
	RunViewType   ViewType `json:"run_view_type,omitempty"`
	MaxResults    int64    `json:"max_results,omitempty"` // 0: 1000; server max 50000
	OrderBy       []string `json:"order_by,omitempty"`    // e.g. "metrics.auc DESC", "attributes.start_time"
	PageToken     string   `json:"page_token,omitempty"`
}

// RunsPage is one page of search results.
type RunsPage struct {
	Runs          []Run  `json:"runs"`
	NextPageToken string `json:"next_page_token"`
}

// SearchRuns returns one page of runs.
func (c *Client) SearchRuns(ctx context.Context, req SearchRunsRequest) (*RunsPage, error) {
	if len(req.ExperimentIDs) == 0 {
		return nil, errors.New("search runs: no experiment IDs")
	}
	if req.MaxResults == 0 {
		req.MaxResults = 1000
	}
	var out RunsPage
	if err := c.do(ctx, "POST", "/api/2.0/mlflow/runs/search", req, &out); err != nil {
		return nil, fmt.Errorf("search runs in %v: %w", req.ExperimentIDs, err)
	}
	return &out, nil
}

// AllRuns yields every run matching req, following page tokens from
// req.PageToken on. It stops after the first error.
func (c *Client) AllRuns(ctx context.Context, req SearchRunsRequest) iter.Seq2[Run, error] {
	return Paginate(req.PageToken, func(token string) ([]Run, string, error) {
		req.PageToken = token
		page, err := c.SearchRuns(ctx, req)
		if err != nil {
			return nil, "", err
		}
		return page.Runs, page.NextPageToken, nil
	})
}

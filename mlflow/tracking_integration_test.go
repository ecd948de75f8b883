package mlflow

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditrisk/engine/internal/testkit"
)

// uniq gives a name no earlier run of the tests used.
func uniq(prefix string) string {
	return fmt.Sprintf("%s-%d-%08x", prefix, time.Now().UnixNano(), rand.Uint32())
}

// eachServer runs f against MLflow 3.x and 2.9.2.
func eachServer(t *testing.T, f func(t *testing.T, c *Client)) {
	t.Helper()
	for _, s := range testkit.Servers(t) {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(s.URI, WithRetries(2, 50*time.Millisecond, 0))
			if err != nil {
				t.Fatal(err)
			}
			f(t, c)
		})
	}
}

func newExperiment(t *testing.T, c *Client, prefix string) string {
	t.Helper()
	id, err := c.CreateExperiment(t.Context(), CreateExperimentRequest{Name: uniq(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestIntegrationExperiments(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, c *Client) {
		ctx := t.Context()
		name := uniq("go-exp")
		id, err := c.CreateExperiment(ctx, CreateExperimentRequest{
			Name:             name,
			ArtifactLocation: "s3://mlflow/custom/" + name,
			Tags:             []Tag{{"team", "credit-risk"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		byID, err := c.GetExperiment(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		byName, err := c.GetExperimentByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if byID.Name != name || byName.ID != id || byID.ArtifactLocation != "s3://mlflow/custom/"+name || byID.LifecycleStage != "active" || byID.CreationTime == 0 {
			t.Errorf("by id %+v, by name %+v", byID, byName)
		}
		if len(byID.Tags) != 1 || byID.Tags[0] != (Tag{"team", "credit-risk"}) {
			t.Errorf("tags %v", byID.Tags)
		}
		if err := c.SetExperimentTag(ctx, id, "stage", "dev"); err != nil {
			t.Fatal(err)
		}
		if e, err := c.GetExperiment(ctx, id); err != nil || len(e.Tags) != 2 {
			t.Errorf("after set tag: %+v %v", e, err)
		}

		_, err = c.CreateExperiment(ctx, CreateExperimentRequest{Name: name})
		var ae *APIError
		if !errors.Is(err, ErrAlreadyExists) || !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Code != "RESOURCE_ALREADY_EXISTS" {
			t.Errorf("duplicate create: %v", err)
		}
		if _, err := c.GetExperimentByName(ctx, uniq("missing")); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing name: %v", err)
		}
		if _, err := c.GetExperiment(ctx, "987654321"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing id: %v", err)
		}
	})
}

func TestIntegrationSearchExperimentsPaging(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, c *Client) {
		ctx := t.Context()
		prefix := uniq("go-search")
		want := map[string]bool{}
		for i := range 5 {
			id, err := c.CreateExperiment(ctx, CreateExperimentRequest{Name: fmt.Sprintf("%s-%d", prefix, i)})
			if err != nil {
				t.Fatal(err)
			}
			want[id] = true
		}
		req := SearchExperimentsRequest{Filter: fmt.Sprintf("name LIKE '%s-%%'", prefix), MaxResults: 2, OrderBy: []string{"name ASC"}}
		var pages, names []string
		for {
			page, err := c.SearchExperiments(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Experiments) > 2 {
				t.Errorf("page of %d", len(page.Experiments))
			}
			pages = append(pages, page.NextPageToken)
			for _, e := range page.Experiments {
				names = append(names, e.Name)
			}
			if page.NextPageToken == "" {
				break
			}
			req.PageToken = page.NextPageToken
		}
		if len(names) != 5 || !sort.StringsAreSorted(names) || len(pages) < 3 {
			t.Errorf("names %v over %d pages", names, len(pages))
		}
		got := map[string]bool{}
		for e, err := range c.AllExperiments(ctx, SearchExperimentsRequest{Filter: fmt.Sprintf("name LIKE '%s-%%'", prefix), MaxResults: 2}) {
			if err != nil {
				t.Fatal(err)
			}
			got[e.ID] = true
		}
		if len(got) != 5 {
			t.Errorf("AllExperiments gave %v, want %v", got, want)
		}
		for id := range want {
			if !got[id] {
				t.Errorf("missing %s", id)
			}
		}
	})
}

func TestIntegrationGetOrCreateRace(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, c *Client) {
		name := uniq("go-race")
		const n = 8
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				e, err := c.GetOrCreateExperiment(t.Context(), CreateExperimentRequest{Name: name})
				errs[i] = err
				if err == nil {
					ids[i] = e.ID
				}
			})
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Errorf("goroutine %d: id %q err %v (first id %q)", i, ids[i], errs[i], ids[0])
			}
		}
		page, err := c.SearchExperiments(t.Context(), SearchExperimentsRequest{Filter: fmt.Sprintf("name = '%s'", name), ViewType: AllViews})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Experiments) != 1 {
			t.Errorf("%d experiments named %s", len(page.Experiments), name)
		}
	})
}

func TestIntegrationRuns(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, c *Client) {
		ctx := t.Context()
		expID := newExperiment(t, c, "go-runs")
		src := Source{User: "tester", Name: "pipeline train", Type: SourceTypeLocal, GitCommit: "0123456789abcdef0123456789abcdef01234567"}
		start := time.UnixMilli(time.Now().UnixMilli())
		run, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: expID, RunName: "first", StartTime: start, Tags: src.Tags()})
		if err != nil {
			t.Fatal(err)
		}
		id := run.Info.RunID
		if id == "" || run.Info.Status != RunRunning || run.Info.RunName != "first" || run.Info.StartTime != start.UnixMilli() || run.Info.UserID != "tester" || !strings.HasSuffix(run.Info.ArtifactURI, id+"/artifacts") {
			t.Errorf("created %+v", run.Info)
		}
		got, err := c.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{TagUser: "tester", TagSourceName: "pipeline train", TagSourceType: "LOCAL", TagRunName: "first", TagGitCommit: src.GitCommit} {
			if g, ok := got.Tag(k); !ok || g != v {
				t.Errorf("tag %s = %q, want %q", k, g, v)
			}
		}

		if err := c.SetTag(ctx, id, "note", "hello"); err != nil {
			t.Fatal(err)
		}
		if err := c.SetTag(ctx, id, TagRunName, "renamed"); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteTag(ctx, id, TagSourceName); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteTag(ctx, id, "never-set"); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete missing tag: %v", err)
		}
		got, err = c.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := got.Tag("note"); v != "hello" {
			t.Errorf("note %q", v)
		}
		if _, ok := got.Tag(TagSourceName); ok {
			t.Error("deleted tag still there")
		}
		if got.Info.RunName != "renamed" {
			t.Errorf("run name %q after setting mlflow.runName", got.Info.RunName)
		}

		if err := c.TerminateRun(ctx, id, RunFinished); err != nil {
			t.Fatal(err)
		}
		got, err = c.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Info.Status != RunFinished || got.Info.EndTime < start.UnixMilli() {
			t.Errorf("after terminate %+v", got.Info)
		}
		info, err := c.UpdateRun(ctx, id, RunFailed, time.UnixMilli(start.UnixMilli()+5))
		if err != nil || info.Status != RunFailed || info.EndTime != start.UnixMilli()+5 {
			t.Errorf("update: %+v %v", info, err)
		}
		if err := c.TerminateRun(ctx, id, RunRunning); err == nil {
			t.Error("terminate with RUNNING accepted")
		}
		if _, err := c.GetRun(ctx, "0000000000000000000000000000dead"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing run: %v", err)
		}
	})
}

func TestIntegrationSearchRunsPaging(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, c *Client) {
		ctx := t.Context()
		expID := newExperiment(t, c, "go-search-runs")
		for i := range 5 {
			r, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: expID, RunName: fmt.Sprintf("r%d", i), Tags: []Tag{{"parity", fmt.Sprint(i % 2)}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.LogBatch(ctx, r.Info.RunID, Batch{Metrics: []Metric{{Key: "auc", Value: float64(i) / 10}}}); err != nil {
				t.Fatal(err)
			}
		}
		req := SearchRunsRequest{ExperimentIDs: []string{expID}, MaxResults: 2, OrderBy: []string{"metrics.auc DESC"}}
		var aucs []float64
		pages := 0
		for {
			page, err := c.SearchRuns(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, r := range page.Runs {
				aucs = append(aucs, r.Data.Metrics[0].Value)
			}
			if page.NextPageToken == "" {
				break
			}
			req.PageToken = page.NextPageToken
		}
		if fmt.Sprint(aucs) != "[0.4 0.3 0.2 0.1 0]" || pages != 3 {
			t.Errorf("aucs %v over %d pages", aucs, pages)
		}
		var names []string
		for r, err := range c.AllRuns(ctx, SearchRunsRequest{ExperimentIDs: []string{expID}, Filter: "tags.parity = '0'", MaxResults: 1, OrderBy: []string{"attributes.run_name ASC"}}) {
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, r.Info.RunName)
		}
		if fmt.Sprint(names) != "[r0 r2 r4]" {
			t.Errorf("filtered runs %v", names)
		}
		if _, err := c.SearchRuns(ctx, SearchRunsRequest{ExperimentIDs: []string{expID}, Filter: "metrics.auc >>> 1"}); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("bad filter: %v", err)
		}
	})
}

func TestIntegrationLogBatch5000(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, c *Client) {
		ctx := t.Context()
		run, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: newExperiment(t, c, "go-batch")})
		if err != nil {
			t.Fatal(err)
		}
		id := run.Info.RunID
		base := time.Now().UnixMilli()
		var b Batch
		for i := range 5000 {
			b.Metrics = append(b.Metrics, Metric{Key: "train/loss", Value: 1/float64(i+1) + float64(i)*1e-9, Timestamp: base + int64(i/7), Step: int64(i)})
		}
		for i := range 150 {
			b.Params = append(b.Params, Param{fmt.Sprintf("p%03d", i), strings.Repeat("v", i*40)})
		}
		for i := range 120 {
			b.Tags = append(b.Tags, Tag{fmt.Sprintf("t%03d", i), fmt.Sprint(i)})
		}
		if err := c.LogBatch(ctx, id, b); err != nil {
			t.Fatal(err)
		}
		hist, err := c.GetMetricHistory(ctx, id, "train/loss")
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 5000 {
			t.Fatalf("history has %d points, want 5000", len(hist))
		}
		sort.Slice(hist, func(i, j int) bool { return hist[i].Step < hist[j].Step })
		for i, m := range hist {
			w := b.Metrics[i]
			if m.Key != w.Key || m.Value != w.Value || m.Step != w.Step || m.Timestamp != w.Timestamp {
				t.Fatalf("point %d = %+v, want %+v", i, m, w)
			}
		}
		got, err := c.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Data.Params) != 150 {
			t.Errorf("%d params", len(got.Data.Params))
		}
		for _, p := range b.Params {
			if v, ok := got.Param(p.Key); !ok || v != p.Value {
				t.Errorf("param %s has %d chars", p.Key, len(v))
			}
		}
		n := 0
		for _, tg := range got.Data.Tags {
			if strings.HasPrefix(tg.Key, "t") {
				n++
			}
		}
		if n != 120 {
			t.Errorf("%d tags", n)
		}
		// Same params again: idempotent. A changed one: the server refuses.
		if err := c.LogBatch(ctx, id, Batch{Params: b.Params[:3]}); err != nil {
			t.Errorf("re-log same params: %v", err)
		}
		err = c.LogParam(ctx, id, "p001", "changed")
		if !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("changed param: %v", err)
		}
		if err := c.LogMetric(ctx, id, "single", 0.125, 3); err != nil {
			t.Fatal(err)
		}
		if h, err := c.GetMetricHistory(ctx, id, "single"); err != nil || len(h) != 1 || h[0].Value != 0.125 || h[0].Step != 3 || h[0].Timestamp < base {
			t.Errorf("single metric %+v %v", h, err)
		}
		// Replaying identical points (a retried call) does not add any.
		if err := c.LogBatch(ctx, id, Batch{Metrics: b.Metrics[:10]}); err != nil {
			t.Fatal(err)
		}
		if hist, err := c.GetMetricHistory(ctx, id, "train/loss"); err != nil || len(hist) != 5000 {
			t.Errorf("after replay %d points, %v", len(hist), err)
		}
	})
}

func TestIntegrationMetricHistoryPaging(t *testing.T) {
	t.Parallel()
	for _, s := range testkit.Servers(t) {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(s.URI)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			run, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: newExperiment(t, c, "go-hist")})
			if err != nil {
				t.Fatal(err)
			}
			var ms []Metric
			for i := range 7 {
				ms = append(ms, Metric{Key: "m", Value: float64(i), Timestamp: 1000, Step: int64(i)})
			}
			if err := c.LogBatch(ctx, run.Info.RunID, Batch{Metrics: ms}); err != nil {
				t.Fatal(err)
			}
			page, err := c.MetricHistoryPage(ctx, run.Info.RunID, "m", 3, "")
			if err != nil {
				t.Fatal(err)
			}
			// 3.x pages; 2.9.2 ignores max_results and answers everything.
			switch {
			case s.Name == "2.9.2" && (len(page.Metrics) != 7 || page.NextPageToken != ""):
				t.Errorf("2.9.2 page: %d points, token %q", len(page.Metrics), page.NextPageToken)
			case s.Name != "2.9.2" && (len(page.Metrics) != 3 || page.NextPageToken == ""):
				t.Errorf("3.x page: %d points, token %q", len(page.Metrics), page.NextPageToken)
			}
			all, err := c.GetMetricHistory(ctx, run.Info.RunID, "m")
			if err != nil || len(all) != 7 {
				t.Errorf("history %d points, %v", len(all), err)
			}
		})
	}
}

func TestIntegrationNonFiniteMetrics(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, c *Client) {
		ctx := t.Context()
		run, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: newExperiment(t, c, "go-nan")})
		if err != nil {
			t.Fatal(err)
		}
		want := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.5, 1e-300}
		var ms []Metric
		for i, v := range want {
			ms = append(ms, Metric{Key: "odd", Value: v, Timestamp: 5, Step: int64(i)})
		}
		if err := c.LogBatch(ctx, run.Info.RunID, Batch{Metrics: ms}); err != nil {
			t.Fatal(err)
		}
		hist, err := c.GetMetricHistory(ctx, run.Info.RunID, "odd")
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(hist, func(i, j int) bool { return hist[i].Step < hist[j].Step })
		if len(hist) != len(want) {
			t.Fatalf("%d points", len(hist))
		}
		for i, m := range hist {
			if !(m.Value == want[i] || math.IsNaN(m.Value) && math.IsNaN(want[i])) {
				t.Errorf("step %d: %v, want %v", i, m.Value, want[i])
			}
		}
		got, err := c.GetRun(ctx, run.Info.RunID)
		if err != nil || len(got.Data.Metrics) != 1 || got.Data.Metrics[0].Value != 1e-300 {
			t.Errorf("latest metric %+v %v", got.Data.Metrics, err)
		}
	})
}

func TestIntegrationLogInputs(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, c *Client) {
		ctx := t.Context()
		run, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: newExperiment(t, c, "go-inputs")})
		if err != nil {
			t.Fatal(err)
		}
		in := DatasetInput{
			Tags: []Tag{{TagDatasetCtx, "training"}},
			Dataset: Dataset{
				Name:       "german_credit",
				Digest:     "1a2b3c4d",
				SourceType: "local",
				Source:     `{"uri": "/work/shared/datasets/german_credit.csv"}`,
				Schema:     `{"mlflow_colspec": [{"type": "double", "name": "duration", "required": true}]}`,
				Profile:    `{"num_rows": 1000, "num_elements": 21000}`,
			},
		}
		for range 2 { // a replay must not duplicate
			if err := c.LogInputs(ctx, run.Info.RunID, []DatasetInput{in}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := c.GetRun(ctx, run.Info.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Inputs.DatasetInputs) != 1 {
			t.Fatalf("inputs %+v", got.Inputs)
		}
		gi := got.Inputs.DatasetInputs[0]
		if gi.Dataset != in.Dataset || len(gi.Tags) != 1 || gi.Tags[0] != in.Tags[0] {
			t.Errorf("got %+v, want %+v", gi, in)
		}
		bad := in
		bad.Dataset.Digest = strings.Repeat("f", 37)
		if err := c.LogInputs(ctx, run.Info.RunID, []DatasetInput{bad}); err == nil || !strings.Contains(err.Error(), "digest") {
			t.Errorf("long digest: %v", err)
		}
	})
}

func TestIntegrationAuth(t *testing.T) {
	t.Parallel()
	uri, user, password := testkit.AuthServer(t)
	ok, err := NewClient(uri, WithBasicAuth(user, password), WithRetries(1, 10*time.Millisecond, 0))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := ok.GetOrCreateExperiment(t.Context(), CreateExperimentRequest{Name: uniq("go-auth")})
	if err != nil {
		t.Fatalf("right credentials: %v", err)
	}
	for _, tc := range []struct {
		name string
		opts []Option
		uri  string
	}{
		{"wrong password", []Option{WithBasicAuth(user, "wrong-"+password)}, uri},
		{"no credentials", nil, uri},
		{"bearer token", []Option{WithToken("tok-" + password)}, uri},
		{"password in URI", nil, strings.Replace(uri, "://", "://"+user+":wrong-"+password+"@", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.uri, append(tc.opts, WithRetries(1, 10*time.Millisecond, 0))...)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetExperiment(t.Context(), exp.ID)
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("err %v, want ErrUnauthenticated", err)
			}
			if strings.Contains(err.Error(), password) || !strings.Contains(err.Error(), "authentication failed") {
				t.Errorf("message %q", err)
			}
			t.Logf("%v", err)
		})
	}
}

// TestIntegrationFromEnv configures the client only through the Python
// client's variables, against the basic-auth server (not parallel: Setenv).
func TestIntegrationFromEnv(t *testing.T) {
	uri, user, password := testkit.AuthServer(t)
	t.Setenv("HOME", t.TempDir()) // no ~/.mlflow/credentials
	t.Setenv("MLFLOW_TRACKING_URI", uri)
	t.Setenv("MLFLOW_TRACKING_USERNAME", user)
	t.Setenv("MLFLOW_TRACKING_PASSWORD", password)
	t.Setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
	t.Setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0.01")
	c, err := NewClientFromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetOrCreateExperiment(t.Context(), CreateExperimentRequest{Name: uniq("go-env")}); err != nil {
		t.Fatalf("credentials from the environment: %v", err)
	}
	t.Setenv("MLFLOW_TRACKING_PASSWORD", "not-"+password)
	c, err = NewClientFromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SearchExperiments(t.Context(), SearchExperimentsRequest{MaxResults: 1})
	if !errors.Is(err, ErrUnauthenticated) || strings.Contains(err.Error(), password) {
		t.Errorf("wrong password: %v", err)
	}
}

// TestIntegrationServerLimits shows why the client refuses tag values over
// 5000 and param values over 6000 characters: 2.9.2 rejects them, 3.x
// silently truncates them. The raw calls bypass the client's checks.
func TestIntegrationServerLimits(t *testing.T) {
	t.Parallel()
	for _, s := range testkit.Servers(t) {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(s.URI, WithRetries(0, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			run, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: newExperiment(t, c, "go-limits")})
			if err != nil {
				t.Fatal(err)
			}
			id := run.Info.RunID
			raw := func(b Batch) error {
				in := struct {
					RunID  string  `json:"run_id"`
					Params []Param `json:"params,omitempty"`
					Tags   []Tag   `json:"tags,omitempty"`
				}{id, b.Params, b.Tags}
				return c.do(ctx, "POST", "/api/2.0/mlflow/runs/log-batch", in, nil)
			}
			if err := raw(Batch{Tags: []Tag{{"t5000", strings.Repeat("x", 5000)}}, Params: []Param{{"p6000", strings.Repeat("x", 6000)}}}); err != nil {
				t.Fatalf("values at the limits: %v", err)
			}
			errTag := raw(Batch{Tags: []Tag{{"t5001", strings.Repeat("x", 5001)}}})
			errParam := raw(Batch{Params: []Param{{"p6001", strings.Repeat("x", 6001)}}})
			got, err := c.GetRun(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := got.Param("p6001")
			tg, _ := got.Tag("t5001")
			t.Logf("tag 5001: %v (stored %d); param 6001: %v (stored %d)", errTag, len(tg), errParam, len(p))
			if s.Name == "2.9.2" {
				if !errors.Is(errTag, ErrInvalidParameter) || !errors.Is(errParam, ErrInvalidParameter) {
					t.Errorf("2.9.2 accepted over-long values: %v, %v", errTag, errParam)
				}
			} else if errParam != nil || len(p) != 6000 || errTag != nil || len(tg) != 5001 {
				t.Errorf("3.x: param %v stored %d, tag %v stored %d", errParam, len(p), errTag, len(tg))
			}
			if err := c.SetTag(ctx, id, "t", strings.Repeat("x", 5001)); err == nil || !strings.Contains(err.Error(), "limit is 5000") {
				t.Errorf("client check: %v", err)
			}
		})
	}
}

package mlflow

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorded is one request the fake server saw.
type recorded struct {
	Method, Path, Query string
	Body                any
}

// recordServer answers every request with answer and records it.
func recordServer(t *testing.T, answer string) (*Client, func() []recorded) {
	t.Helper()
	var mu sync.Mutex
	var reqs []recorded
	c := setup(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body any
		if len(b) > 0 {
			if err := json.Unmarshal(b, &body); err != nil {
				t.Errorf("body %q: %v", b, err)
			}
		}
		mu.Lock()
		reqs = append(reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, body})
		mu.Unlock()
		_, _ = io.WriteString(w, answer)
	})
	return c, func() []recorded {
		mu.Lock()
		defer mu.Unlock()
		return append([]recorded(nil), reqs...)
	}
}

// js parses a JSON literal for comparisons.
func js(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return v
}

func TestTrackingRequestShapes(t *testing.T) {
	t.Parallel()
	start := time.UnixMilli(1700000000123)
	tests := []struct {
		name   string
		answer string
		call   func(ctx context.Context, c *Client) error
		want   recorded // Body as JSON text
	}{
		{"get experiment", `{"experiment":{"experiment_id":"7"}}`,
			func(ctx context.Context, c *Client) error { _, err := c.GetExperiment(ctx, "7"); return err },
			recorded{"GET", "/api/2.0/mlflow/experiments/get", "experiment_id=7", nil}},
		{"get experiment by name", `{"experiment":{"experiment_id":"7"}}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.GetExperimentByName(ctx, "credit risk/é")
				return err
			},
			recorded{"GET", "/api/2.0/mlflow/experiments/get-by-name", "experiment_name=credit+risk%2F%C3%A9", nil}},
		{"create experiment", `{"experiment_id":"8"}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.CreateExperiment(ctx, CreateExperimentRequest{Name: "x", ArtifactLocation: "s3://b/x", Tags: []Tag{{"k", "v"}}})
				return err
			},
			recorded{"POST", "/api/2.0/mlflow/experiments/create", "", `{"name":"x","artifact_location":"s3://b/x","tags":[{"key":"k","value":"v"}]}`}},
		{"set experiment tag", `{}`,
			func(ctx context.Context, c *Client) error { return c.SetExperimentTag(ctx, "8", "k", "v") },
			recorded{"POST", "/api/2.0/mlflow/experiments/set-experiment-tag", "", `{"experiment_id":"8","key":"k","value":"v"}`}},
		{"search experiments", `{"experiments":[]}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.SearchExperiments(ctx, SearchExperimentsRequest{Filter: "name LIKE 'a%'", OrderBy: []string{"name"}, PageToken: "tok", ViewType: AllViews})
				return err
			},
			recorded{"POST", "/api/2.0/mlflow/experiments/search", "", `{"filter":"name LIKE 'a%'","order_by":["name"],"max_results":1000,"page_token":"tok","view_type":"ALL"}`}},
		{"create run", `{"run":{"info":{"run_id":"r"}}}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: "8", RunName: "n", StartTime: start, Tags: Source{User: "u", Name: "prog", Type: "LOCAL"}.Tags()})
				return err
			},
			recorded{"POST", "/api/2.0/mlflow/runs/create", "", `{"experiment_id":"8","user_id":"u","run_name":"n","start_time":1700000000123,
				"tags":[{"key":"mlflow.user","value":"u"},{"key":"mlflow.source.name","value":"prog"},{"key":"mlflow.source.type","value":"LOCAL"}]}`}},
		{"update run", `{"run_info":{"run_id":"r"}}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.UpdateRun(ctx, "r", RunKilled, start)
				return err
			},
			recorded{"POST", "/api/2.0/mlflow/runs/update", "", `{"run_id":"r","run_uuid":"r","status":"KILLED","end_time":1700000000123}`}},
		{"get run", `{"run":{"info":{"run_id":"r"}}}`,
			func(ctx context.Context, c *Client) error { _, err := c.GetRun(ctx, "r"); return err },
			recorded{"GET", "/api/2.0/mlflow/runs/get", "run_id=r", nil}},
		{"set tag", `{}`,
			func(ctx context.Context, c *Client) error { return c.SetTag(ctx, "r", "k", "v") },
			recorded{"POST", "/api/2.0/mlflow/runs/set-tag", "", `{"run_id":"r","run_uuid":"r","key":"k","value":"v"}`}},
		{"delete tag", `{}`,
			func(ctx context.Context, c *Client) error { return c.DeleteTag(ctx, "r", "k") },
			recorded{"POST", "/api/2.0/mlflow/runs/delete-tag", "", `{"run_id":"r","key":"k"}`}},
		{"search runs", `{"runs":[]}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.SearchRuns(ctx, SearchRunsRequest{ExperimentIDs: []string{"1", "2"}, Filter: "metrics.auc > 0.5", RunViewType: ActiveOnly, MaxResults: 10, OrderBy: []string{"metrics.auc DESC"}, PageToken: "p"})
				return err
			},
			recorded{"POST", "/api/2.0/mlflow/runs/search", "", `{"experiment_ids":["1","2"],"filter":"metrics.auc > 0.5","run_view_type":"ACTIVE_ONLY","max_results":10,"order_by":["metrics.auc DESC"],"page_token":"p"}`}},
		{"metric history page", `{"metrics":[]}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.MetricHistoryPage(ctx, "r", "loss/train", 50, "t1")
				return err
			},
			recorded{"GET", "/api/2.0/mlflow/metrics/get-history", "max_results=50&metric_key=loss%2Ftrain&page_token=t1&run_id=r", nil}},
		{"log batch", `{}`,
			func(ctx context.Context, c *Client) error {
				return c.LogBatch(ctx, "r", Batch{
					Metrics: []Metric{{Key: "m", Value: math.Inf(-1), Timestamp: 5, Step: 2}, {Key: "m", Value: 0.25, Timestamp: 6, Step: 3}},
					Params:  []Param{{"p", "1"}},
					Tags:    []Tag{{"t", "x"}},
				})
			},
			recorded{"POST", "/api/2.0/mlflow/runs/log-batch", "", `{"run_id":"r","metrics":[{"key":"m","value":"-Infinity","timestamp":5,"step":2},{"key":"m","value":0.25,"timestamp":6,"step":3}],"params":[{"key":"p","value":"1"}],"tags":[{"key":"t","value":"x"}]}`}},
		{"log inputs", `{}`,
			func(ctx context.Context, c *Client) error {
				return c.LogInputs(ctx, "r", []DatasetInput{{Tags: []Tag{{TagDatasetCtx, "training"}}, Dataset: Dataset{Name: "d", Digest: "abc", SourceType: "local", Source: `{"uri":"x"}`, Schema: "{}"}}})
			},
			recorded{"POST", "/api/2.0/mlflow/runs/log-inputs", "", `{"run_id":"r","datasets":[{"tags":[{"key":"mlflow.data.context","value":"training"}],"dataset":{"name":"d","digest":"abc","source_type":"local","source":"{\"uri\":\"x\"}","schema":"{}"}}]}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, reqs := recordServer(t, tt.answer)
			if err := tt.call(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			got := reqs()
			if len(got) != 1 {
				t.Fatalf("%d requests: %+v", len(got), got)
			}
			want := tt.want
			if s, ok := want.Body.(string); ok {
				want.Body = js(t, s)
			}
			if !reflect.DeepEqual(got[0], want) {
				g, _ := json.Marshal(got[0])
				w, _ := json.Marshal(want)
				t.Errorf("request\n got %s\nwant %s", g, w)
			}
		})
	}
}

func TestDecodeRun(t *testing.T) {
	t.Parallel()
	// An answer as MLflow 3.x sends it (with fields this client ignores).
	body := `{"run":{"info":{"run_uuid":"abc","experiment_id":"1","run_name":"n","user_id":"u","status":"FINISHED","start_time":1,"end_time":2,
		"artifact_uri":"s3://mlflow/1/abc/artifacts","lifecycle_stage":"active","run_id":"abc"},
		"data":{"metrics":[{"key":"auc","value":"NaN","timestamp":3,"step":4,"run_id":"abc"}],"params":[{"key":"p","value":"1"}],"tags":[{"key":"mlflow.user","value":"u"}]},
		"inputs":{"dataset_inputs":[{"tags":[{"key":"mlflow.data.context","value":"eval"}],"dataset":{"name":"d","digest":"x","source_type":"local","source":"{}"}}]},"outputs":{}}}`
	c, _ := recordServer(t, body)
	r, err := c.GetRun(t.Context(), "abc")
	if err != nil {
		t.Fatal(err)
	}
	if r.Info.RunID != "abc" || r.Info.Status != RunFinished || r.Info.EndTime != 2 || len(r.Data.Metrics) != 1 || !math.IsNaN(r.Data.Metrics[0].Value) ||
		r.Data.Metrics[0].Step != 4 || len(r.Inputs.DatasetInputs) != 1 || r.Inputs.DatasetInputs[0].Tags[0].Value != "eval" {
		t.Errorf("decoded %+v", r)
	}
	if v, ok := r.Param("p"); !ok || v != "1" {
		t.Errorf("param %q", v)
	}
	if _, ok := r.Tag("missing"); ok {
		t.Error("missing tag found")
	}
}

func TestAllRunsFollowsTokens(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var tokens []string
	c := setup(t, func(w http.ResponseWriter, r *http.Request) {
		var in SearchRunsRequest
		_ = json.NewDecoder(r.Body).Decode(&in)
		mu.Lock()
		tokens = append(tokens, in.PageToken)
		mu.Unlock()
		switch in.PageToken {
		case "":
			_, _ = io.WriteString(w, `{"runs":[{"info":{"run_id":"a"}},{"info":{"run_id":"b"}}],"next_page_token":"t2"}`)
		case "t2":
			_, _ = io.WriteString(w, `{"runs":[{"info":{"run_id":"c"}}],"next_page_token":"t3"}`)
		default:
			_, _ = io.WriteString(w, `{}`)
		}
	})
	var ids []string
	for r, err := range c.AllRuns(t.Context(), SearchRunsRequest{ExperimentIDs: []string{"1"}}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.Info.RunID)
	}
	if fmt.Sprint(ids) != "[a b c]" || fmt.Sprint(tokens) != "[ t2 t3]" {
		t.Errorf("ids %v tokens %q", ids, tokens)
	}
	// Stopping early sends no further request.
	for range c.AllRuns(t.Context(), SearchRunsRequest{ExperimentIDs: []string{"1"}}) {
		break
	}
	if len(tokens) != 4 {
		t.Errorf("%d requests after an early break", len(tokens))
	}
}

func TestSplitBatch(t *testing.T) {
	t.Parallel()
	metrics := func(n int) []Metric {
		ms := make([]Metric, n)
		for i := range ms {
			ms[i] = Metric{Key: "m", Value: float64(i), Step: int64(i)}
		}
		return ms
	}
	params := func(n, size int) []Param {
		ps := make([]Param, n)
		for i := range ps {
			ps[i] = Param{fmt.Sprintf("p%d", i), strings.Repeat("x", size)}
		}
		return ps
	}
	tags := func(n, size int) []Tag {
		ts := make([]Tag, n)
		for i := range ts {
			ts[i] = Tag{fmt.Sprintf("t%d", i), strings.Repeat("v", size)}
		}
		return ts
	}
	tests := []struct {
		name  string
		in    Batch
		sizes []string // per call: metrics/params/tags
	}{
		{"empty", Batch{}, nil},
		{"5000 metrics", Batch{Metrics: metrics(5000)}, []string{"1000/0/0", "1000/0/0", "1000/0/0", "1000/0/0", "1000/0/0"}},
		{"mixed fills calls to 1000 entities", Batch{Metrics: metrics(1500), Params: params(150, 1), Tags: tags(120, 1)},
			[]string{"800/100/100", "700/50/20"}},
		{"long values split by bytes", Batch{Params: params(100, 6000), Tags: tags(100, 5000), Metrics: metrics(10)}, []string{"10/100/59", "0/0/41"}},
		{"duplicate identical params sent once", Batch{Params: append(params(2, 3), params(2, 3)...)}, []string{"0/2/0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			chunks, err := splitBatch(tt.in, 42)
			if err != nil {
				t.Fatal(err)
			}
			var sizes []string
			seen := map[string]int{}
			for _, ch := range chunks {
				sizes = append(sizes, fmt.Sprintf("%d/%d/%d", len(ch.Metrics), len(ch.Params), len(ch.Tags)))
				b, _ := json.Marshal(ch)
				if len(b) > 1_000_000 || len(ch.Metrics) > 1000 || len(ch.Params) > 100 || len(ch.Tags) > 100 || len(ch.Metrics)+len(ch.Params)+len(ch.Tags) > 1000 {
					t.Errorf("call over the limits: %s, %d bytes", sizes[len(sizes)-1], len(b))
				}
				for _, p := range ch.Params {
					seen[p.Key]++
				}
				for _, m := range ch.Metrics {
					if m.Timestamp != 42 {
						t.Errorf("timestamp %d, want the default 42", m.Timestamp)
					}
				}
			}
			for k, n := range seen {
				if n != 1 {
					t.Errorf("param %s sent %d times", k, n)
				}
			}
			if fmt.Sprint(sizes) != fmt.Sprint(tt.sizes) {
				t.Errorf("calls %v, want %v", sizes, tt.sizes)
			}
		})
	}
}

func TestLogBatchValidation(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("k", 251)
	tests := []struct {
		name string
		b    Batch
		want string // the error must name this
	}{
		{"long key", Batch{Metrics: []Metric{{Key: long}}}, "metric key \"kkkk"},
		{"bad char", Batch{Params: []Param{{"lr=0.1", "x"}}}, `param key "lr=0.1": character '='`},
		{"leading slash", Batch{Tags: []Tag{{"/abs", "x"}}}, `tag key "/abs"`},
		{"dot dot", Batch{Tags: []Tag{{"../up", "x"}}}, `tag key "../up"`},
		{"double slash", Batch{Metrics: []Metric{{Key: "a//b"}}}, `metric key "a//b"`},
		{"trailing slash", Batch{Metrics: []Metric{{Key: "a/"}}}, `metric key "a/"`},
		{"empty key", Batch{Params: []Param{{"", "x"}}}, "param key is empty"},
		{"param too long", Batch{Params: []Param{{"big", strings.Repeat("é", 6001)}}}, `param "big": value is 6001 characters`},
		{"tag too long", Batch{Tags: []Tag{{"big", strings.Repeat("x", 5001)}}}, `tag "big": value is 5001 characters`},
		{"changed param", Batch{Params: []Param{{"a", "1"}, {"a", "2"}}}, `param "a" given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, reqs := recordServer(t, "{}")
			err := c.LogBatch(t.Context(), "r", tt.b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want it to contain %q", err, tt.want)
			}
			if n := len(reqs()); n != 0 {
				t.Errorf("%d requests sent for invalid input", n)
			}
		})
	}
	for _, ok := range []string{"a", "train/loss", "eval.auc", "a b", "x-y_z", "stage:1", "ä/ß", strings.Repeat("k", 250)} {
		if err := ValidateKey("metric", ok); err != nil {
			t.Errorf("%q rejected: %v", ok, err)
		}
	}
}

func TestMetricJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		json  string
		value float64
	}{
		{`{"key":"m","value":1.5,"timestamp":1,"step":2}`, 1.5},
		{`{"key":"m","value":"NaN","timestamp":1,"step":2}`, math.NaN()},
		{`{"key":"m","value":"Infinity","timestamp":1,"step":2}`, math.Inf(1)},
		{`{"key":"m","value":"-Infinity","timestamp":1,"step":2}`, math.Inf(-1)},
		{`{"key":"m","value":1.7976931348623157e+308,"timestamp":1,"step":2}`, math.Inf(1)},
		{`{"key":"m","value":-1.7976931348623157e+308,"timestamp":1,"step":2}`, math.Inf(-1)},
		{`{"key":"m","value":"2.5","timestamp":1,"step":2}`, 2.5},
		{`{"key":"m","timestamp":1,"step":2}`, 0},
	}
	for _, tt := range tests {
		var m Metric
		if err := json.Unmarshal([]byte(tt.json), &m); err != nil {
			t.Errorf("%s: %v", tt.json, err)
			continue
		}
		if !(m.Value == tt.value || math.IsNaN(m.Value) && math.IsNaN(tt.value)) || m.Key != "m" || m.Timestamp != 1 || m.Step != 2 {
			t.Errorf("%s decoded to %+v", tt.json, m)
		}
	}
	for _, bad := range []string{`{"value":"inf"}`, `{"value":"x"}`, `{"value":true}`, `{"value":"1e999"}`} {
		var m Metric
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("%s accepted as %v", bad, m.Value)
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0.1, -3, 1e300} {
		b, err := json.Marshal(Metric{Key: "k", Value: v})
		if err != nil {
			t.Fatal(err)
		}
		var back Metric
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !(back.Value == v || math.IsNaN(v) && math.IsNaN(back.Value)) {
			t.Errorf("%v → %s → %v", v, b, back.Value)
		}
	}
}

func FuzzMetricJSON(f *testing.F) {
	for _, s := range []string{
		`{"key":"m","value":"NaN","timestamp":1,"step":2}`,
		`{"key":"m","value":-1.7976931348623157e+308}`,
		`{"key":"m","value":"Infinity"}`,
		`{"value":1e400}`,
		`{"value":"0x1p-2"}`,
		`{"value":null}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Metric
		if err := json.Unmarshal(b, &m); err != nil {
			return
		}
		// Whatever decodes must encode and decode to the same point.
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("encode %+v: %v", m, err)
		}
		var back Metric
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("decode own %s: %v", out, err)
		}
		if back.Key != m.Key || back.Step != m.Step || back.Timestamp != m.Timestamp ||
			!(back.Value == m.Value || math.IsNaN(back.Value) && math.IsNaN(m.Value)) {
			t.Errorf("%+v → %s → %+v", m, out, back)
		}
	})
}

func FuzzValidateKey(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../x", "a//b", "é", "\x00", ".", "a/./b", "a:b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := ValidateKey("metric", key)
		if err == nil && (key == "" || strings.Contains(key, "//") || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") || strings.ContainsAny(key, "\x00\n\"'=")) {
			t.Errorf("%q accepted", key)
		}
	})
}

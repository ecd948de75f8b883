package serve

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

const ctJSON = "application/json"

func TestPredict(t *testing.T) {
	s, reg, _ := loaded(t, Options{})
	h := s.Handler()
	m := tinyModel(t, 10)
	tb := table(t)
	want, err := m.Predict(tb.Matrix([]int{0, 1, 2}))
	if err != nil {
		t.Fatal(err)
	}

	w := do(t, h, "POST", "/predict", ctJSON, mustJSON(t, record(t, 0)))
	if w.Code != 200 {
		t.Fatalf("single: %d %s", w.Code, w.Body)
	}
	one := decode[PredictResponse](t, w.Body)
	if one.ProbabilityOfDefault != want[0] {
		t.Errorf("probability %v, want the model's %v", one.ProbabilityOfDefault, want[0])
	}
	if wantD := map[bool]string{true: "decline", false: "approve"}[want[0] >= 0.5]; one.Decision != wantD {
		t.Errorf("decision %q, want %q", one.Decision, wantD)
	}
	if one.Model != (ModelInfo{Name: "fake", Version: "1", RunID: "run1"}) {
		t.Errorf("model %+v", one.Model)
	}

	body := mustJSON(t, map[string]any{"instances": []any{record(t, 0), record(t, 1), record(t, 2)}})
	w = do(t, h, "POST", "/predict", "application/json; charset=utf-8", body)
	if w.Code != 200 {
		t.Fatalf("batch: %d %s", w.Code, w.Body)
	}
	batch := decode[BatchResponse](t, w.Body)
	if len(batch.Predictions) != 3 || batch.Model.Version != "1" {
		t.Fatalf("batch answer %+v", batch)
	}
	for i, p := range batch.Predictions {
		if p.ProbabilityOfDefault != want[i] {
			t.Errorf("batch row %d: %v, want %v", i, p.ProbabilityOfDefault, want[i])
		}
	}
	if n := testutil.ToFloat64(s.m.decisions.WithLabelValues("approve")) + testutil.ToFloat64(s.m.decisions.WithLabelValues("decline")); n != 4 {
		t.Errorf("decisions counted %v, want 4", n)
	}
	if n := testutil.ToFloat64(s.m.requests.WithLabelValues("/predict", "200")); n != 2 {
		t.Errorf("api_requests_total{/predict,200} = %v, want 2", n)
	}
	if probs, err := testutil.GatherAndCount(reg, "model_probability_of_default"); err != nil || probs != 1 {
		t.Errorf("probability histogram: %d series, %v", probs, err)
	}
}

func TestThresholdDecides(t *testing.T) {
	m := tinyModel(t, 10)
	p, _ := m.Predict(table(t).Matrix([]int{0}))
	for _, tc := range []struct {
		threshold float64
		want      string
	}{{p[0] - 1e-9, "decline"}, {p[0], "decline"}, {math.Nextafter(p[0], 1), "approve"}} {
		s, _, _ := loaded(t, Options{Threshold: tc.threshold})
		w := do(t, s.Handler(), "POST", "/predict", ctJSON, mustJSON(t, record(t, 0)))
		if got := decode[PredictResponse](t, w.Body).Decision; got != tc.want {
			t.Errorf("threshold %v, p %v: %s, want %s", tc.threshold, p[0], got, tc.want)
		}
	}
}

func TestExplain(t *testing.T) {
	s, _, _ := loaded(t, Options{ReasonCodes: 3})
	h := s.Handler()
	m := tinyModel(t, 10)
	row := table(t).Matrix([]int{5})[0]
	contrib, base, err := m.Explain(row)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := m.Predict([][]float64{row})
	w := do(t, h, "POST", "/explain", ctJSON, mustJSON(t, record(t, 5)))
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	ex := decode[ExplainResponse](t, w.Body)
	if ex.Explanation == nil || ex.Model.Version != "1" {
		t.Fatalf("answer %+v", ex)
	}
	if ex.BaseValue != base || ex.ProbabilityOfDefault != p[0] {
		t.Errorf("base %v p %v, want %v %v", ex.BaseValue, ex.ProbabilityOfDefault, base, p[0])
	}
	sum := ex.BaseValue
	for _, c := range ex.Contributions {
		sum += c
	}
	if math.Abs(sum-ex.RawScore) > 1e-9 || math.Abs(1/(1+math.Exp(-sum))-p[0]) > 1e-9 {
		t.Errorf("contributions + base = %v, raw %v, sigmoid %v, p %v", sum, ex.RawScore, 1/(1+math.Exp(-sum)), p[0])
	}
	if len(ex.Contributions) != len(contrib) {
		t.Errorf("%d contributions, want %d", len(ex.Contributions), len(contrib))
	}
	if len(ex.ReasonCodes) > 3 {
		t.Errorf("%d reason codes, want at most 3", len(ex.ReasonCodes))
	}
	for i, rc := range ex.ReasonCodes {
		if rc.Contribution <= 0 || rc.Contribution != ex.Contributions[rc.Feature] {
			t.Errorf("reason %d %+v does not raise the risk or mismatches contributions", i, rc)
		}
		if i > 0 && rc.Contribution > ex.ReasonCodes[i-1].Contribution {
			t.Errorf("reason codes not in decreasing order: %+v", ex.ReasonCodes)
		}
		if rc.Value != record(t, 5)[rc.Feature] {
			t.Errorf("reason %s value %v, want the request's %v", rc.Feature, rc.Value, record(t, 5)[rc.Feature])
		}
	}
	// every positive contribution larger than the last code is listed
	for f, c := range ex.Contributions {
		if n := len(ex.ReasonCodes); n == 3 && c > ex.ReasonCodes[n-1].Contribution {
			found := false
			for _, rc := range ex.ReasonCodes {
				found = found || rc.Feature == f
			}
			if !found {
				t.Errorf("feature %s (%v) missing from reason codes %+v", f, c, ex.ReasonCodes)
			}
		}
	}
	w = do(t, h, "POST", "/explain?top=1", ctJSON, mustJSON(t, map[string]any{"instances": []any{record(t, 0), record(t, 1)}}))
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	exs := decode[ExplainResponse](t, w.Body)
	if len(exs.Explanations) != 2 || len(exs.Explanations[0].ReasonCodes) > 1 {
		t.Errorf("batch explain: %+v", exs)
	}
}

func TestInvocations(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	h := s.Handler()
	tb := table(t)
	x := tb.Matrix([]int{0, 1})
	want, _ := tinyModel(t, 10).Predict(x)
	names := tb.FeatureNames()
	records := make([]map[string]any, 2)
	rows := make([][]any, 2)
	cols := map[string][]any{}
	for i := range x {
		records[i] = map[string]any{}
		for j, n := range names {
			var v any = x[i][j]
			if math.IsNaN(x[i][j]) {
				v = nil
			}
			records[i][n] = v
			rows[i] = append(rows[i], v)
			cols[n] = append(cols[n], v)
		}
	}
	// category strings are accepted too (looked up among the levels)
	strRec := tb.Record(1)
	for _, tc := range []struct {
		name string
		body any
	}{
		{"dataframe_split", map[string]any{"dataframe_split": map[string]any{"columns": names, "data": rows, "index": []int{0, 1}}}},
		{"dataframe_records", map[string]any{"dataframe_records": records}},
		{"instances records", map[string]any{"instances": records}},
		{"inputs columns", map[string]any{"inputs": cols}},
		{"inputs rows", map[string]any{"inputs": rows, "params": map[string]any{}}},
		{"category strings", map[string]any{"dataframe_records": []any{tb.Record(0), strRec}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := do(t, h, "POST", "/invocations", ctJSON, mustJSON(t, tc.body))
			if w.Code != 200 {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			got := decode[struct{ Predictions []float64 }](t, w.Body)
			if len(got.Predictions) != 2 || got.Predictions[0] != want[0] || got.Predictions[1] != want[1] {
				t.Errorf("predictions %v, want %v", got.Predictions, want)
			}
		})
	}
}

// TestInvocationsCSV: text/csv as pandas writes it (header, empty field
// for missing, category strings or codes).
func TestInvocationsCSV(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	tb := table(t)
	want, _ := tinyModel(t, 10).Predict(tb.Matrix([]int{0, 1}))
	var sb strings.Builder
	w := csv.NewWriter(&sb)
	w.Write(tb.FeatureNames())
	for i := range 2 {
		rec := tb.Record(i)
		var row []string
		for _, n := range tb.FeatureNames() {
			switch v := rec[n].(type) {
			case nil:
				row = append(row, "")
			case string:
				row = append(row, v)
			default:
				row = append(row, fmt.Sprint(v))
			}
		}
		w.Write(row)
	}
	w.Flush()
	resp := do(t, s.Handler(), "POST", "/invocations", "text/csv; charset=utf-8", sb.String())
	if resp.Code != 200 {
		t.Fatalf("%d %s", resp.Code, resp.Body)
	}
	got := decode[struct{ Predictions []float64 }](t, resp.Body).Predictions
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("CSV predictions %v, want %v", got, want)
	}
}

func TestProbes(t *testing.T) {
	src := &fakeSource{dirs: map[string]string{"1": writeModel(t, t.TempDir(), 10, "run1")}, cur: "1"}
	s, _ := newServer(t, src, Options{Version: "v1.2.3"})
	h := s.Handler()
	for _, p := range []struct {
		method, path string
		code         int
	}{{"GET", "/health", 200}, {"GET", "/ready", 503}, {"GET", "/ping", 503}, {"POST", "/predict", 503}, {"POST", "/invocations", 503}, {"GET", "/version", 200}} {
		if w := do(t, h, p.method, p.path, ctJSON, "{}"); w.Code != p.code {
			t.Errorf("before load: %s %s: %d, want %d", p.method, p.path, w.Code, p.code)
		}
	}
	if _, err := s.Reload(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/health", "/ready", "/ping", "/version", "/metrics"} {
		if w := do(t, h, "GET", p, "", ""); w.Code != 200 {
			t.Errorf("after load: %s: %d", p, w.Code)
		}
	}
	v := decode[VersionResponse](t, do(t, h, "GET", "/version", "", "").Body)
	if v.Model == nil || v.Model.Version != "1" || v.Model.Alias != "champion" || v.Build.Version != "v1.2.3" || v.Model.Flavor != "lightgbm" {
		t.Errorf("version: %+v %+v", v.Model, v.Build)
	}
	if w := do(t, h, "GET", "/predict", "", ""); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /predict: %d", w.Code)
	}
	if w := do(t, h, "GET", "/nope", "", ""); w.Code != 404 || testutil.ToFloat64(s.m.requests.WithLabelValues("other", "404")) != 1 {
		t.Errorf("unknown path: %d", w.Code)
	}
}

func TestBadInput(t *testing.T) {
	s, _, _ := loaded(t, Options{MaxBatch: 3, MaxBody: 4096})
	h := s.Handler()
	good := record(t, 0)
	with := func(k string, v any) string {
		r := record(t, 0)
		r[k] = v
		return mustJSON(t, r)
	}
	without := func(k string) string {
		r := record(t, 0)
		delete(r, k)
		return mustJSON(t, r)
	}
	tooMany := mustJSON(t, map[string]any{"instances": []any{good, good, good, good}})
	for _, tc := range []struct {
		name, path, ctype, body string
		code                    int
		reason, field           string
	}{
		{"malformed", "/predict", ctJSON, `{"duration_in_month": `, 400, ReasonMalformedJSON, ""},
		{"not json", "/predict", ctJSON, `hello`, 400, ReasonMalformedJSON, ""},
		{"trailing", "/predict", ctJSON, mustJSON(t, good) + "{}", 400, ReasonMalformedJSON, ""},
		{"empty", "/predict", ctJSON, ``, 400, ReasonMalformedJSON, ""},
		{"array", "/predict", ctJSON, `[1,2]`, 400, ReasonBadRequest, ""},
		{"content type", "/predict", "text/plain", mustJSON(t, good), 415, ReasonContentType, ""},
		{"no content type", "/predict", "", mustJSON(t, good), 415, ReasonContentType, ""},
		{"too large", "/predict", ctJSON, `{"x":"` + strings.Repeat("a", 5000) + `"}`, 413, ReasonBodyTooLarge, ""},
		{"too many", "/predict", ctJSON, tooMany, 413, ReasonTooManyInstances, ""},
		{"empty batch", "/predict", ctJSON, `{"instances": []}`, 400, ReasonBadRequest, ""},
		{"batch of numbers", "/predict", ctJSON, `{"instances": [1]}`, 400, ReasonBadRequest, ""},
		{"batch mixed", "/predict", ctJSON, `{"instances": [], "duration_in_month": 3}`, 400, ReasonBadRequest, ""},
		{"missing", "/predict", ctJSON, without("duration_in_month"), 400, ReasonMissingFeature, "duration_in_month"},
		{"unknown", "/predict", ctJSON, with("salary", 1), 400, ReasonUnknownFeature, "salary"},
		{"wrong type", "/predict", ctJSON, with("duration_in_month", "long"), 400, ReasonWrongType, "duration_in_month"},
		{"wrong type bool", "/predict", ctJSON, with("duration_in_month", true), 400, ReasonWrongType, "duration_in_month"},
		{"not finite", "/predict", ctJSON, strings.Replace(with("duration_in_month", 1), `"duration_in_month":1`, `"duration_in_month":1e999`, 1), 400, ReasonNotFinite, "duration_in_month"},
		{"explain missing", "/explain", ctJSON, without("duration_in_month"), 400, ReasonMissingFeature, "duration_in_month"},
		{"explain top", "/explain?top=x", ctJSON, mustJSON(t, good), 400, ReasonBadRequest, ""},
		{"inv none", "/invocations", ctJSON, `{"rows": []}`, 400, ReasonBadRequest, ""},
		{"inv two", "/invocations", ctJSON, `{"instances": [], "inputs": []}`, 400, ReasonBadRequest, ""},
		{"inv split shape", "/invocations", ctJSON, `{"dataframe_split": {"columns": ["duration_in_month"], "data": [[1, 2]]}}`, 400, ReasonBadRequest, ""},
		{"inv missing", "/invocations", ctJSON, `{"dataframe_split": {"columns": ["duration_in_month"], "data": [[1]]}}`, 400, ReasonMissingFeature, ""},
		{"inv unknown", "/invocations", ctJSON, `{"dataframe_records": [{"salary": 1}]}`, 400, ReasonUnknownFeature, ""},
		{"inv too many", "/invocations", ctJSON, `{"inputs": [[1],[1],[1],[1]]}`, 413, ReasonTooManyInstances, ""},
		{"inv wrong width", "/invocations", ctJSON, `{"inputs": [[1]]}`, 400, ReasonBadRequest, ""},
		{"inv malformed", "/invocations", ctJSON, `{"inputs": `, 400, ReasonMalformedJSON, ""},
		{"inv content type", "/invocations", "text/plain", "a,b\n1,2\n", 415, ReasonContentType, ""},
		{"inv csv malformed", "/invocations", "text/csv", "a,\"b\n1,2\n", 400, ReasonMalformedCSV, ""},
		{"inv csv header only", "/invocations", "text/csv", "duration_in_month\n", 400, ReasonMalformedCSV, ""},
		{"inv csv ragged", "/invocations", "text/csv", "duration_in_month,credit_amount\n1\n", 400, ReasonMalformedCSV, ""},
		{"inv csv missing", "/invocations", "text/csv", "duration_in_month\n12\n", 400, ReasonMissingFeature, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := testutil.ToFloat64(s.m.invalid.WithLabelValues(tc.reason))
			w := do(t, h, "POST", tc.path, tc.ctype, tc.body)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			var msg, reason string
			var fields []FieldProblem
			if tc.path == "/invocations" {
				b := decode[struct {
					ErrorCode string `json:"error_code"`
					Message   string
					Fields    []FieldProblem
				}](t, w.Body)
				msg, fields = b.Message, b.Fields
				if b.ErrorCode != "BAD_REQUEST" {
					t.Errorf("error_code %q", b.ErrorCode)
				}
				reason = tc.reason
				if len(fields) > 0 {
					reason = fields[0].Reason
				}
			} else {
				b := decode[ErrorBody](t, w.Body)
				msg, reason, fields = b.Error.Message, b.Error.Reason, b.Error.Fields
			}
			if reason != tc.reason || msg == "" {
				t.Errorf("reason %q message %q, want reason %q", reason, msg, tc.reason)
			}
			if tc.field != "" && (len(fields) == 0 || fields[0].Field != tc.field || !strings.Contains(msg, tc.field)) {
				t.Errorf("fields %+v / message %q do not name %s", fields, msg, tc.field)
			}
			if after := testutil.ToFloat64(s.m.invalid.WithLabelValues(tc.reason)); after <= before {
				t.Errorf("api_validation_errors_total{reason=%q} not counted", tc.reason)
			}
		})
	}
}

func TestUnknownFeaturePolicy(t *testing.T) {
	s, _, _ := loaded(t, Options{UnknownFeatures: UnknownIgnore})
	r := record(t, 0)
	r["salary"] = 100
	w := do(t, s.Handler(), "POST", "/predict", ctJSON, mustJSON(t, r))
	if w.Code != 200 {
		t.Fatalf("ignore policy: %d %s", w.Code, w.Body)
	}
	w = do(t, s.Handler(), "POST", "/invocations", ctJSON, mustJSON(t, map[string]any{"dataframe_records": []any{r}}))
	if w.Code != 200 {
		t.Fatalf("ignore policy, invocations: %d %s", w.Code, w.Body)
	}
	if _, err := New(&fakeSource{}, nil, nil, Options{UnknownFeatures: "drop"}); err == nil {
		t.Error("policy drop accepted")
	}
}

func TestUnseenCategory(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	tb := table(t)
	var cat string
	for _, c := range tb.Columns {
		if len(c.Levels) > 0 {
			cat = c.Name
			break
		}
	}
	r := record(t, 0)
	r[cat] = "never-seen"
	x := tb.Matrix([]int{0})
	j := 0
	for i, n := range tb.FeatureNames() {
		if n == cat {
			j = i
		}
	}
	x[0][j] = math.NaN()
	want, _ := tinyModel(t, 10).Predict(x)
	w := do(t, s.Handler(), "POST", "/predict", ctJSON, mustJSON(t, r))
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if got := decode[PredictResponse](t, w.Body).ProbabilityOfDefault; got != want[0] {
		t.Errorf("unseen category scored %v, want it as missing: %v", got, want[0])
	}
	if n := testutil.ToFloat64(s.m.unseen.WithLabelValues(cat)); n != 1 {
		t.Errorf("unseen counted %v", n)
	}
}

func TestMetricsLint(t *testing.T) {
	s, reg, _ := loaded(t, Options{DriftMinRows: 1})
	h := s.Handler()
	do(t, h, "POST", "/predict", ctJSON, mustJSON(t, record(t, 0)))
	do(t, h, "POST", "/predict", ctJSON, `{`)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	w := do(t, h, "GET", "/metrics", "", "")
	for _, name := range []string{"api_requests_total{endpoint=\"/predict\",status=\"200\"} 1", "api_request_latency_seconds_bucket",
		`model_info{alias="champion",integrity="registered",name="fake",run_id="run1",version="1"} 1`, `model_reloads_total{result="success"} 1`,
		"model_last_reload_success_timestamp_seconds", "model_probability_of_default_bucket", "model_decisions_total",
		`api_validation_errors_total{reason="malformed_json"} 1`, `model_feature_psi{feature="duration_in_month"}`, "model_score_psi", "model_drift_window_rows 1",
		"go_goroutines", "process_cpu_seconds_total", "go_build_info", "pipeline_build_info"} {
		if !strings.Contains(w.Body.String(), name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

func TestDrift(t *testing.T) {
	s, reg, _ := loaded(t, Options{DriftWindow: 50, DriftMinRows: 20})
	h := s.Handler()
	psi := func() map[string]float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				switch mf.GetName() {
				case "model_feature_psi":
					out[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
				case "model_score_psi", "model_drift_window_rows":
					out[mf.GetName()] = m.GetGauge().GetValue()
				}
			}
		}
		return out
	}
	for i := range 10 {
		do(t, h, "POST", "/predict", ctJSON, mustJSON(t, record(t, i)))
	}
	if p := psi(); len(p) != 1 || p["model_drift_window_rows"] != 10 {
		t.Errorf("below the minimum rows only the row count is exported: %v", p)
	}
	// training-like traffic: low PSI; then the same row over and over: high
	for i := range 50 {
		do(t, h, "POST", "/predict", ctJSON, mustJSON(t, record(t, 100+i*7)))
	}
	calm := psi()
	if calm["model_drift_window_rows"] != 50 || len(calm) != len(table(t).Columns)+2 {
		t.Fatalf("gauges %v", calm)
	}
	for range 50 {
		do(t, h, "POST", "/predict", ctJSON, mustJSON(t, record(t, 3)))
	}
	shifted := psi()
	if !(shifted["duration_in_month"] > calm["duration_in_month"]+0.5 && shifted["model_score_psi"] > calm["model_score_psi"]+0.5) {
		t.Errorf("PSI did not rise on constant traffic: duration %v -> %v, score %v -> %v",
			calm["duration_in_month"], shifted["duration_in_month"], calm["model_score_psi"], shifted["model_score_psi"])
	}
}

func TestRecoverCounts(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	h := s.instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	w := do(t, h, "POST", "/predict", ctJSON, "{}")
	if w.Code != 500 || testutil.ToFloat64(s.m.panics) != 1 {
		t.Errorf("panic: %d, counted %v", w.Code, testutil.ToFloat64(s.m.panics))
	}
	if w.Header().Get("X-Request-Id") == "" {
		t.Error("no request id")
	}
	var b ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil || b.Error.Reason != "internal" {
		t.Errorf("panic answer %s", w.Body)
	}
}

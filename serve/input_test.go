package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditrisk/engine/data"
)

// scoreVia answers one applicant through /predict, /invocations and the
// Open Inference Protocol's infer, and returns each path's probability (NaN when
// refused) and warnings.
type pathAnswer struct {
	p        float64
	status   int
	warnings []Warning
	body     string
}

func answers(t *testing.T, s *Server, rec map[string]any) map[string]pathAnswer {
	t.Helper()
	h := s.Handler()
	out := map[string]pathAnswer{}
	w := do(t, h, "POST", "/predict", ctJSON, mustJSON(t, rec))
	a := pathAnswer{p: math.NaN(), status: w.Code, body: w.Body.String()}
	if w.Code == 200 {
		r := decode[PredictResponse](t, w.Body)
		a.p, a.warnings = r.ProbabilityOfDefault, r.Warnings
	}
	out["/predict"] = a
	w = do(t, h, "POST", "/invocations", ctJSON, mustJSON(t, map[string]any{"dataframe_records": []any{rec}}))
	a = pathAnswer{p: math.NaN(), status: w.Code, body: w.Body.String()}
	if w.Code == 200 {
		r := decode[InvocationsResponse](t, w.Body)
		a.p = r.Predictions[0]
		for _, wn := range r.Warnings {
			a.warnings = append(a.warnings, wn.Warning)
		}
	}
	out["/invocations"] = a
	// the Open Inference Protocol: a tensor per feature, levels (and
	// missing values) of a categorical one as BYTES, its codes as INT64
	var inputs []map[string]any
	for _, f := range s.current.Load().schema.Features {
		v, ok := rec[f.Name]
		if !ok {
			continue
		}
		dt := "FP64"
		if f.Type == data.Categorical {
			dt = "BYTES"
			if _, num := v.(string); !num && v != nil {
				dt = "INT64"
			}
		}
		inputs = append(inputs, map[string]any{"name": f.Name, "datatype": dt, "shape": []int{1}, "data": []any{v}})
	}
	w = do(t, h, "POST", inferPath, "", mustJSON(t, map[string]any{"inputs": inputs}))
	a = pathAnswer{p: math.NaN(), status: w.Code, body: w.Body.String()}
	if w.Code == 200 {
		r := decode[V2InferResponse](t, w.Body)
		a.p = r.Outputs[0].Data[0]
		for _, wn := range r.Warnings {
			a.warnings = append(a.warnings, wn.Warning)
		}
	}
	out[inferPath] = a
	return out
}

// 12.2: a category code means the same on /predict as on /invocations
// (the level at that index), not "missing" on one and the level on the
// other.
func TestCategoryCodeSameEverywhere(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	tb := table(t)
	col, _ := tb.Column("status_of_existing_checking_account")
	level := record(t, 0)
	level["status_of_existing_checking_account"] = col.Levels[0]
	code := record(t, 0)
	code["status_of_existing_checking_account"] = 0
	want := answers(t, s, level)["/predict"].p
	for path, a := range answers(t, s, code) {
		if a.status != 200 || a.p != want {
			t.Errorf("%s: code 0 scored %v (%d %s), level %q scores %v", path, a.p, a.status, a.body, col.Levels[0], want)
		}
	}
}

// 12.2: null and the documented spellings of missing are accepted on
// every path, score the same, and say that a required value is missing.
func TestMissingSpellingsSameEverywhere(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	var want float64 = math.NaN()
	for _, v := range []any{nil, "NaN", "nan", "", "NA", "null", " NULL "} {
		for _, f := range []string{"credit_amount", "purpose"} {
			rec := record(t, 0)
			rec[f] = v
			for path, a := range answers(t, s, rec) {
				if a.status != 200 {
					t.Errorf("%s %s=%#v: %d %s", path, f, v, a.status, a.body)
					continue
				}
				if len(a.warnings) != 1 || a.warnings[0].Field != f || a.warnings[0].Reason != "missing_value" {
					t.Errorf("%s %s=%#v: warnings %+v, want one missing_value", path, f, v, a.warnings)
				}
				if f == "credit_amount" {
					if math.IsNaN(want) {
						want = a.p
					} else if a.p != want {
						t.Errorf("%s %s=%#v: %v, other spellings %v", path, f, v, a.p, want)
					}
				}
			}
		}
	}
}

// 12.2: an unseen category and absurd numbers are scored, and the answer
// says so.
func TestWarnings(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	for _, tc := range []struct {
		field  string
		value  any
		reason string
	}{
		{"purpose", "crypto", "unseen_category"},
		{"age_in_years", -5, "out_of_range"},
		{"credit_amount", 1e12, "out_of_range"},
		{"purpose", 99, "unseen_category"},
	} {
		rec := record(t, 0)
		rec[tc.field] = tc.value
		for path, a := range answers(t, s, rec) {
			if a.status != 200 || len(a.warnings) != 1 || a.warnings[0].Field != tc.field || a.warnings[0].Reason != tc.reason ||
				!strings.Contains(a.warnings[0].Message, strings.Trim(mustJSON(t, tc.value), `"`)) {
				t.Errorf("%s %s=%v: %d warnings %+v, want one %s", path, tc.field, tc.value, a.status, a.warnings, tc.reason)
			}
		}
	}
}

// --strict refuses what is otherwise scored with a warning, naming the
// field and the warning's reason, on every path.
func TestStrict(t *testing.T) {
	s, _, _ := loaded(t, Options{Strict: true})
	for _, tc := range []struct {
		field  string
		value  any
		reason string
	}{
		{"purpose", "crypto", "unseen_category"},
		{"age_in_years", -5, "out_of_range"},
		{"credit_amount", nil, "missing_value"},
	} {
		rec := record(t, 0)
		rec[tc.field] = tc.value
		for path, a := range answers(t, s, rec) {
			if a.status != 400 || !strings.Contains(a.body, tc.reason) || !strings.Contains(a.body, tc.field) {
				t.Errorf("%s %s=%v strict: %d %s", path, tc.field, tc.value, a.status, a.body)
			}
		}
	}
	for path, a := range answers(t, s, record(t, 0)) {
		if a.status != 200 {
			t.Errorf("%s: a clean applicant refused under --strict: %d %s", path, a.status, a.body)
		}
	}
}

// Field problems are capped: a request with more than maxProblems bad
// fields lists maxProblems and says it stopped; a field given twice is
// refused rather than one of its values silently kept.
func TestProblemCap(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	rec := record(t, 0)
	for i := range 500 {
		rec[fmt.Sprintf("extra_%d", i)] = i
	}
	w := do(t, s.Handler(), "POST", "/predict", ctJSON, mustJSON(t, rec))
	b := decode[ErrorBody](t, w.Body)
	if w.Code != 400 || len(b.Error.Fields) != maxProblems || !strings.Contains(b.Error.Message, "decoding stopped") {
		t.Errorf("%d, %d fields, message %q", w.Code, len(b.Error.Fields), b.Error.Message)
	}
	long := strings.Repeat("k", 100000)
	w = do(t, s.Handler(), "POST", "/predict", ctJSON, `{"`+long+`": 1}`)
	if w.Code != 400 || w.Body.Len() > 8<<10 { // the name cut to 128 bytes, and the 20 missing features
		t.Errorf("a 100 kB field name: %d, %d-byte answer", w.Code, w.Body.Len())
	}
	dup := strings.Replace(mustJSON(t, record(t, 0)), `{`, `{"age_in_years": 99,`, 1)
	w = do(t, s.Handler(), "POST", "/predict", ctJSON, dup)
	if w.Code != 400 || !strings.Contains(w.Body.String(), ReasonDuplicate) {
		t.Errorf("a field given twice: %d %s", w.Code, w.Body)
	}
}

// Durations in serve's logs are Go duration strings, not nanoseconds.
func TestLogDurations(t *testing.T) {
	var buf lockedBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src := &fakeSource{dirs: map[string]string{"1": writeModel(t, t.TempDir(), 10, "run1")}, cur: "1"}
	s, err := New(src, prometheus.NewRegistry(), log, Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reload(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	do(t, s.Handler(), "POST", "/predict", ctJSON, mustJSON(t, record(t, 0)))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	took := 0
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if v, ok := m["took"]; ok {
			took++
			d, isString := v.(string)
			if _, err := time.ParseDuration(d); !isString || err != nil {
				t.Errorf("took = %#v in %s, want a Go duration string", v, l)
			}
		}
	}
	if took < 2 { // the reload and the request
		t.Errorf("%d lines with took:\n%s", took, buf.String())
	}
	var h slog.HandlerOptions
	h.ReplaceAttr = LogDurations
	var out strings.Builder
	slog.New(slog.NewJSONHandler(&out, &h)).Info("serving", "poll", 10*time.Second)
	if !strings.Contains(out.String(), `"poll":"10s"`) {
		t.Errorf("LogDurations: %s", out.String())
	}
}

// A dataframe_split's columns are remembered per model (clients send the
// same ones every time); a request with other columns is read afresh, and
// columns with problems are never remembered.
func TestSplitColumnsRemembered(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	h := s.Handler()
	tb := table(t)
	names := tb.FeatureNames()
	x := tb.Matrix([]int{0, 1})
	want, _ := tinyModel(t, 10).Predict(x)
	body := func(cols []string, row []float64) string {
		return mustJSON(t, map[string]any{"dataframe_split": map[string]any{"columns": cols, "data": [][]float64{row}}})
	}
	for i := range 2 {
		for range 2 {
			w := do(t, h, "POST", "/invocations", ctJSON, body(names, x[i]))
			if got := decode[InvocationsResponse](t, w.Body).Predictions; w.Code != 200 || got[0] != want[i] {
				t.Fatalf("row %d: %d %v, want %v", i, w.Code, got, want[i])
			}
		}
	}
	if s.current.Load().columns.Load() == nil {
		t.Fatal("columns not remembered")
	}
	// reversed columns and values: the same answer
	rev, rx := slices.Clone(names), slices.Clone(x[0])
	slices.Reverse(rev)
	slices.Reverse(rx)
	if w := do(t, h, "POST", "/invocations", ctJSON, body(rev, rx)); w.Code != 200 || decode[InvocationsResponse](t, w.Body).Predictions[0] != want[0] {
		t.Errorf("reversed columns: %d", w.Code)
	}
	// the remembered columns with one more, unknown: refused, not remembered
	bad := append(slices.Clone(rev), "salary")
	if w := do(t, h, "POST", "/invocations", ctJSON, body(bad, append(rx, 1))); w.Code != 400 {
		t.Errorf("an unknown column after remembered ones: %d", w.Code)
	}
	if k := s.current.Load().columns.Load(); k == nil || strings.Contains(string(k.raw), "salary") {
		t.Errorf("remembered %v", k)
	}
}

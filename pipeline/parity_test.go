package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/serve"
)

// inputCases is the one table of what inputs mean (the trust issue's "one
// meaning for every input"): each case changes the base applicant (German
// row 0 in level strings) and says what every path must make of it. set
// holds JSON values (json.RawMessage for literals Go cannot marshal); the
// CSV paths write each value as text. sameAs, when set, is another form of
// the applicant that must score exactly the same.
var inputCases = []struct {
	name     string
	set      map[string]any
	drop     string
	sameAs   map[string]any
	warn     []string // feature:reason, in schema order
	refuse   string   // the reason serve gives when the case is refused
	jsonOnly bool     // a JSON type that CSV text cannot express
}{
	{name: "levels"},
	{name: "category code", set: map[string]any{"purpose": 0}, sameAs: map[string]any{"purpose": level("purpose", 0)}},
	{name: "category code as text", set: map[string]any{"purpose": "3"}, sameAs: map[string]any{"purpose": level("purpose", 3)}},
	{name: "category code out of range", set: map[string]any{"purpose": 99}, sameAs: map[string]any{"purpose": nil}, warn: []string{"purpose:unseen_category"}},
	{name: "fractional code", set: map[string]any{"purpose": 1.5}, refuse: "not_a_code"},
	{name: "unseen level", set: map[string]any{"purpose": "crypto"}, sameAs: map[string]any{"purpose": nil}, warn: []string{"purpose:unseen_category"}},
	{name: "padded level", set: map[string]any{"housing": "  own "}, sameAs: map[string]any{"housing": "own"}},
	{name: "missing number", set: map[string]any{"credit_amount": nil}, warn: []string{"credit_amount:missing_value"}},
	{name: "missing as NA", set: map[string]any{"credit_amount": "NA"}, sameAs: map[string]any{"credit_amount": nil}, warn: []string{"credit_amount:missing_value"}},
	{name: "missing as NaN", set: map[string]any{"credit_amount": "NaN"}, sameAs: map[string]any{"credit_amount": nil}, warn: []string{"credit_amount:missing_value"}},
	{name: "missing as nan", set: map[string]any{"credit_amount": "nan"}, sameAs: map[string]any{"credit_amount": nil}, warn: []string{"credit_amount:missing_value"}},
	{name: "missing as empty", set: map[string]any{"credit_amount": ""}, sameAs: map[string]any{"credit_amount": nil}, warn: []string{"credit_amount:missing_value"}},
	{name: "missing as null text", set: map[string]any{"credit_amount": " NULL "}, sameAs: map[string]any{"credit_amount": nil}, warn: []string{"credit_amount:missing_value"}},
	{name: "missing category", set: map[string]any{"purpose": nil}, warn: []string{"purpose:missing_value"}},
	{name: "missing category as NA", set: map[string]any{"purpose": "NA"}, sameAs: map[string]any{"purpose": nil}, warn: []string{"purpose:missing_value"}},
	{name: "below the training range", set: map[string]any{"age_in_years": -5}, warn: []string{"age_in_years:out_of_range"}},
	{name: "above the training range", set: map[string]any{"credit_amount": 1e12}, warn: []string{"credit_amount:out_of_range"}},
	{name: "several warnings", set: map[string]any{"purpose": "crypto", "credit_amount": 1e12, "age_in_years": nil},
		warn: []string{"purpose:unseen_category", "credit_amount:out_of_range", "age_in_years:missing_value"}},
	{name: "not finite", set: map[string]any{"credit_amount": json.RawMessage("1e999")}, refuse: "not_finite"},
	{name: "infinite category", set: map[string]any{"purpose": "inf"}, refuse: "not_finite"},
	{name: "number as a string", set: map[string]any{"duration_in_month": "12"}, refuse: "wrong_type", jsonOnly: true},
	{name: "boolean", set: map[string]any{"duration_in_month": true}, refuse: "wrong_type", jsonOnly: true},
	{name: "missing feature", drop: "duration_in_month", refuse: "missing_feature"},
	{name: "unknown feature", set: map[string]any{"salary": 1}, refuse: "unknown_feature"}, // scored as the base under --unknown-features ignore and by predict
}

var german = func() *data.Table {
	t, err := data.Default()
	if err != nil {
		panic(err)
	}
	return t
}()

func level(feature string, code int) string {
	c, _ := german.Column(feature)
	return c.Levels[code]
}

// applicant is German row 0 with changes; nil in drop removes the field.
func applicant(set map[string]any, drop string) map[string]any {
	r := german.Record(0)
	for k, v := range set {
		r[k] = v
	}
	delete(r, drop)
	return r
}

// names are the fields of an applicant: the features in schema order,
// then extras sorted.
func names(rec map[string]any) []string {
	var out, extra []string
	for _, n := range german.FeatureNames() {
		if _, ok := rec[n]; ok {
			out = append(out, n)
		}
	}
	for k := range rec {
		if !slices.Contains(german.FeatureNames(), k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// text is a JSON value as a CSV cell.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.RawMessage:
		return string(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// outcome is what one path made of one applicant.
type outcome struct {
	p       float64
	warn    []string
	refused string
	reasons []string // /explain and predict --explain: top features
}

func warnKeys(ws []serve.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Field+":"+w.Reason)
	}
	return out
}

func post(t *testing.T, h http.Handler, path, ctype string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("POST", path, bytes.NewReader(body))
	r.Header.Set("Content-Type", ctype)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func refusal(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var b struct {
		Error  serve.ErrorBody `json:"-"`
		Fields []serve.FieldProblem
		Err    *struct {
			Reason string
			Fields []serve.FieldProblem
		} `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
		t.Fatalf("%d %s: %v", w.Code, w.Body, err)
	}
	switch {
	case b.Err != nil && len(b.Err.Fields) > 0:
		return b.Err.Fields[0].Reason
	case b.Err != nil:
		return b.Err.Reason
	case len(b.Fields) > 0:
		return b.Fields[0].Reason
	}
	return "refused: " + w.Body.String()
}

// servePaths answers one applicant through /predict, /explain and three
// /invocations formats of a server.
func servePaths(t *testing.T, h http.Handler, rec map[string]any) map[string]outcome {
	t.Helper()
	out := map[string]outcome{}
	body := marshal(t, rec)
	w := post(t, h, "/predict", "application/json", body)
	if w.Code == 200 {
		var r serve.PredictResponse
		json.Unmarshal(w.Body.Bytes(), &r)
		out["/predict"] = outcome{p: r.ProbabilityOfDefault, warn: warnKeys(r.Warnings)}
	} else {
		out["/predict"] = outcome{p: math.NaN(), refused: refusal(t, w)}
	}
	w = post(t, h, "/explain?top=3", "application/json", body)
	if w.Code == 200 {
		var r serve.ExplainResponse
		json.Unmarshal(w.Body.Bytes(), &r)
		o := outcome{p: r.ProbabilityOfDefault, warn: warnKeys(r.Warnings)}
		for _, c := range r.Reasons {
			o.reasons = append(o.reasons, c.Feature+"="+strconv.FormatFloat(c.Amount, 'g', -1, 64)+" "+c.Statement)
		}
		out["/explain"] = o
	} else {
		out["/explain"] = outcome{p: math.NaN(), refused: refusal(t, w)}
	}
	cols := names(rec)
	row := make([]json.RawMessage, len(cols))
	for i, c := range cols {
		row[i] = marshal(t, rec[c])
	}
	var sb strings.Builder
	cw := csv.NewWriter(&sb)
	cw.Write(cols)
	cells := make([]string, len(cols))
	for i, c := range cols {
		cells[i] = text(rec[c])
	}
	cw.Write(cells)
	cw.Flush()
	columns := map[string][]json.RawMessage{}
	for i, c := range cols {
		columns[c] = []json.RawMessage{row[i]}
	}
	formats := []struct {
		name, ctype string
		body        []byte
	}{
		{"/invocations dataframe_records", "application/json", marshal(t, map[string]any{"dataframe_records": []any{json.RawMessage(body)}})},
		{"/invocations dataframe_split", "application/json", marshal(t, map[string]any{"dataframe_split": map[string]any{"columns": cols, "data": [][]json.RawMessage{row}}})},
		{"/invocations inputs (columns)", "application/json", marshal(t, map[string]any{"inputs": columns})},
		{"/invocations text/csv", "text/csv", []byte(sb.String())},
	}
	if slices.Equal(cols, german.FeatureNames()) { // rows in signature order need every feature, no other
		formats = append(formats, struct {
			name, ctype string
			body        []byte
		}{"/invocations instances (rows)", "application/json", marshal(t, map[string]any{"instances": [][]json.RawMessage{row}})})
	}
	for _, f := range formats {
		w := post(t, h, "/invocations", f.ctype, f.body)
		if w.Code != 200 {
			out[f.name] = outcome{p: math.NaN(), refused: refusal(t, w)}
			continue
		}
		var r serve.InvocationsResponse
		json.Unmarshal(w.Body.Bytes(), &r)
		o := outcome{p: r.Predictions[0]}
		for _, w := range r.Warnings {
			o.warn = append(o.warn, w.Field+":"+w.Reason)
		}
		out[f.name] = o
	}
	return out
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// predictPath scores applicants with pipeline predict --explain, one CSV
// row each; a refusal fails the whole file, so refused cases run alone.
func predictPath(t *testing.T, modelDir string, recs []map[string]any, strict bool) []outcome {
	t.Helper()
	var cols []string
	for _, r := range recs {
		for _, c := range names(r) {
			if !slices.Contains(cols, c) {
				cols = append(cols, c)
			}
		}
	}
	var sb strings.Builder
	cw := csv.NewWriter(&sb)
	cw.Write(cols)
	for _, r := range recs {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = text(r[c])
		}
		cw.Write(cells)
	}
	cw.Flush()
	in := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(in, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"predict", "--model", modelDir, "--data", in, "--explain", "--reason-codes", "3"}
	if strict {
		args = append(args, "--strict")
	}
	code, stdout, stderr := pipeline(t, args...)
	if code != 0 {
		out := make([]outcome, len(recs))
		for i := range out {
			out[i] = outcome{p: math.NaN(), refused: stderr}
		}
		return out
	}
	got, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil || len(got) != len(recs)+1 {
		t.Fatalf("predict wrote %d rows (%v):\n%s", len(got), err, stdout)
	}
	h := got[0]
	at := func(name string) int { return slices.Index(h, name) }
	var out []outcome
	for _, row := range got[1:] {
		p, err := strconv.ParseFloat(row[at("probability_of_default")], 64)
		if err != nil {
			t.Fatal(err)
		}
		o := outcome{p: p}
		if w := row[at("warnings")]; w != "" {
			o.warn = strings.Split(w, ";")
		}
		for k := 1; k <= 3; k++ {
			if f := row[at("reason_"+strconv.Itoa(k)+"_feature")]; f != "" {
				o.reasons = append(o.reasons, f+"="+row[at("reason_"+strconv.Itoa(k)+"_amount")]+" "+row[at("reason_"+strconv.Itoa(k)+"_statement")])
			}
		}
		out = append(out, o)
	}
	return out
}

// TestInputParity drives /predict, /explain, /invocations (records, split,
// columns, rows in signature order, CSV) and pipeline predict with the one table of inputs: every path gives
// the same probability (to the bit), the same warnings and the same reason
// codes, or refuses; --strict turns every warning into a refusal on every
// path; the unknown-feature policy is the one documented.
func TestInputParity(t *testing.T) {
	modelDir := filepath.Join("testdata", "predict", "model")
	handler := func(opts serve.Options) http.Handler {
		src, err := serve.NewSource(modelDir, nil)
		if err != nil {
			t.Fatal(err)
		}
		opts.WorkDir = t.TempDir()
		s, err := serve.New(src, prometheus.NewRegistry(), nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Reload(t.Context(), false); err != nil {
			t.Fatal(err)
		}
		return s.Handler()
	}
	reject, ignore, strict := handler(serve.Options{}), handler(serve.Options{UnknownFeatures: serve.UnknownIgnore}), handler(serve.Options{Strict: true})

	var scored []map[string]any
	var scoredIdx []int
	for i, tc := range inputCases {
		if tc.refuse == "" || tc.refuse == "unknown_feature" {
			scored = append(scored, applicant(tc.set, tc.drop))
			scoredIdx = append(scoredIdx, i)
		}
	}
	batch := predictPath(t, modelDir, scored, false)
	predicted := map[int]outcome{}
	for k, i := range scoredIdx {
		predicted[i] = batch[k]
	}
	base := servePaths(t, reject, applicant(nil, ""))["/predict"]

	for i, tc := range inputCases {
		t.Run(tc.name, func(t *testing.T) {
			rec := applicant(tc.set, tc.drop)
			paths := servePaths(t, reject, rec)
			if tc.refuse == "unknown_feature" {
				for path, o := range servePaths(t, ignore, rec) {
					if o.refused != "" || o.p != base.p {
						t.Errorf("%s --unknown-features ignore: %+v, want the base applicant's %v", path, o, base.p)
					}
				}
				if o := predicted[i]; o.p != base.p {
					t.Errorf("pipeline predict: %+v, want the extra column copied through and the base's %v", o, base.p)
				}
			} else if tc.refuse != "" {
				if !tc.jsonOnly {
					paths["pipeline predict"] = predictPath(t, modelDir, []map[string]any{rec}, false)[0]
				}
			} else {
				paths["pipeline predict"] = predicted[i]
			}
			var want *outcome
			for path, o := range paths {
				if tc.jsonOnly && strings.Contains(path, "csv") {
					continue
				}
				if tc.refuse != "" {
					if path == "pipeline predict" {
						field := tc.drop
						for k := range tc.set {
							field = k
						}
						if !strings.Contains(o.refused, "in.csv:") || !strings.Contains(o.refused, `column "`+field+`"`) {
							t.Errorf("%s: %+v, want a refusal naming the file, line and column", path, o)
						}
						continue
					}
					if o.refused != tc.refuse {
						t.Errorf("%s: %+v, want refused as %s", path, o, tc.refuse)
					}
					continue
				}
				if o.refused != "" {
					t.Errorf("%s: refused %s", path, o.refused)
					continue
				}
				if !slices.Equal(o.warn, tc.warn) {
					t.Errorf("%s: warnings %q, want %q", path, o.warn, tc.warn)
				}
				if want == nil {
					w := o
					want = &w
				} else if o.p != want.p {
					t.Errorf("%s: %v, another path %v", path, o.p, want.p)
				}
			}
			if want != nil && !slices.Equal(paths["/explain"].reasons, paths["pipeline predict"].reasons) {
				t.Errorf("reason codes: /explain %q, pipeline predict %q", paths["/explain"].reasons, paths["pipeline predict"].reasons)
			}
			if tc.sameAs != nil && want != nil {
				if same := servePaths(t, reject, applicant(tc.sameAs, ""))["/predict"]; same.p != want.p {
					t.Errorf("scored %v; the same applicant as %v scores %v", want.p, tc.sameAs, same.p)
				}
			}
			if len(tc.warn) > 0 {
				for path, o := range servePaths(t, strict, rec) {
					reason := tc.warn[0][strings.IndexByte(tc.warn[0], ':')+1:]
					if o.refused != reason {
						t.Errorf("--strict %s: %+v, want refused as %s", path, o, reason)
					}
				}
				if o := predictPath(t, modelDir, []map[string]any{rec}, true)[0]; !strings.Contains(o.refused, "--strict") {
					t.Errorf("pipeline predict --strict: %+v", o)
				}
			}
		})
	}
}

package serve

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/creditrisk/engine/data"
)

// inferBody is an infer request for rows of the German table: one tensor
// per feature, BYTES levels for categorical ones and FP64 for numbers, as
// a Triton client sends them; edit changes the tensors before encoding.
func inferBody(t testing.TB, s *Server, rows []int, edit func(inputs []map[string]any)) string {
	t.Helper()
	var inputs []map[string]any
	for _, f := range s.current.Load().schema.Features {
		dt := "FP64"
		if f.Type == data.Categorical {
			dt = "BYTES"
		}
		var vals []any
		for _, i := range rows {
			vals = append(vals, record(t, i)[f.Name])
		}
		inputs = append(inputs, map[string]any{"name": f.Name, "datatype": dt, "shape": []int{len(rows)}, "data": vals})
	}
	if edit != nil {
		edit(inputs)
	}
	inputs = slices.DeleteFunc(inputs, func(in map[string]any) bool { return in["drop"] == true })
	return mustJSON(t, map[string]any{"inputs": inputs})
}

func tensorOf(inputs []map[string]any, name string) map[string]any {
	for _, in := range inputs {
		if in["name"] == name {
			return in
		}
	}
	panic("no input " + name)
}

const inferPath = "/v2/models/fake/infer"

// The Open Inference Protocol answers what /predict answers for the same
// rows, in a tensor of shape [N], and names the model.
func TestV2Infer(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	h := s.Handler()
	rows := []int{0, 1, 2, 3, 4, 5, 6, 7}
	var insts []any
	for _, i := range rows {
		insts = append(insts, record(t, i))
	}
	w := do(t, h, "POST", "/predict", ctJSON, mustJSON(t, map[string]any{"instances": insts}))
	want := decode[BatchResponse](t, w.Body)
	for _, path := range []string{inferPath, "/v2/models/fake/versions/1/infer"} {
		// no Content-Type: tritonclient sends none
		w = do(t, h, "POST", path, "", inferBody(t, s, rows, nil))
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s: invalid JSON %s", path, w.Body)
		}
		got := decode[V2InferResponse](t, w.Body)
		if got.ModelName != "fake" || got.ModelVersion != "1" || len(got.Outputs) != 1 {
			t.Fatalf("%s: %+v", path, got)
		}
		out := got.Outputs[0]
		if out.Name != "probability_of_default" || out.Datatype != "FP64" || len(out.Shape) != 1 || out.Shape[0] != len(rows) || len(out.Data) != len(rows) {
			t.Fatalf("%s: output %+v", path, out)
		}
		for i, p := range out.Data {
			if p != want.Predictions[i].ProbabilityOfDefault {
				t.Errorf("%s row %d: %v, /predict %v", path, i, p, want.Predictions[i].ProbabilityOfDefault)
			}
		}
	}
	// [N, 1] shapes, nested or flat data, the other numeric datatypes, an
	// id echoed, the output requested by name
	body := inferBody(t, s, rows[:2], func(in []map[string]any) {
		for k, x := range in {
			x["shape"] = []int{2, 1}
			if k%2 == 0 {
				vals := x["data"].([]any)
				x["data"] = [][]any{{vals[0]}, {vals[1]}}
			}
		}
		tensorOf(in, "duration_in_month")["datatype"] = "INT64"
		tensorOf(in, "age_in_years")["datatype"] = "INT32"
		tensorOf(in, "credit_amount")["datatype"] = "FP32"
	})
	body = strings.Replace(body, `{"inputs"`, `{"id": "req-\u00e9", "parameters": {"priority": 1}, "outputs": [{"name": "probability_of_default", "parameters": {"binary_data": false}}], "inputs"`, 1)
	w = do(t, h, "POST", inferPath, "application/x-www-form-urlencoded", body) // curl -d, as KServe's examples send it
	got := decode[V2InferResponse](t, w.Body)
	if w.Code != 200 || got.ID != "req-é" || got.Outputs[0].Data[0] != want.Predictions[0].ProbabilityOfDefault || got.Outputs[0].Data[1] != want.Predictions[1].ProbabilityOfDefault {
		t.Errorf("[N, 1] shapes, other datatypes: %d %+v", w.Code, got)
	}
}

// binaryBody is inferBody with every tensor's data in binary, as
// tritonclient sends it by default: the JSON part (its length returned)
// and the bytes, FP64 little-endian and BYTES each after its 4-byte length.
func binaryBody(t testing.TB, s *Server, rows []int, edit func(inputs []map[string]any)) (string, int) {
	t.Helper()
	var req struct{ Inputs []map[string]any }
	if err := json.Unmarshal([]byte(inferBody(t, s, rows, edit)), &req); err != nil {
		t.Fatal(err)
	}
	var bin []byte
	for _, in := range req.Inputs {
		size := len(bin)
		for _, v := range in["data"].([]any) {
			switch v := v.(type) {
			case string:
				bin = binary.LittleEndian.AppendUint32(bin, uint32(len(v)))
				bin = append(bin, v...)
			case float64:
				bin = binary.LittleEndian.AppendUint64(bin, math.Float64bits(v))
			}
		}
		delete(in, "data")
		in["parameters"] = map[string]any{"binary_data_size": len(bin) - size}
	}
	head := mustJSON(t, map[string]any{"inputs": req.Inputs})
	return head + string(bin), len(head)
}

// The binary tensor extension scores what JSON tensors score, warnings
// included.
func TestV2Binary(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	h := s.Handler()
	rows := []int{0, 1, 2, 3, 4}
	edit := func(in []map[string]any) { tensorOf(in, "purpose")["data"].([]any)[2] = "crypto" }
	w := do(t, h, "POST", inferPath, "", inferBody(t, s, rows, edit))
	want := decode[V2InferResponse](t, w.Body)
	body, n := binaryBody(t, s, rows, edit)
	w = do(t, h, "POST", inferPath, "application/octet-stream", body, "Inference-Header-Content-Length", fmt.Sprint(n))
	got := decode[V2InferResponse](t, w.Body)
	if w.Code != 200 || !slices.Equal(got.Outputs[0].Data, want.Outputs[0].Data) || len(got.Warnings) != 1 || got.Warnings[0] != want.Warnings[0] {
		t.Errorf("binary: %d %+v, JSON %+v", w.Code, got, want)
	}
}

// examples/infer.json is examples/applicant.json as tensors, and scores the same.
func TestV2Example(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	h := s.Handler()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "examples", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	w := do(t, h, "POST", "/predict", ctJSON, read("applicant.json"))
	want := decode[PredictResponse](t, w.Body)
	w = do(t, h, "POST", inferPath, "", read("infer.json"))
	if got := decode[V2InferResponse](t, w.Body); w.Code != 200 || got.Outputs[0].Data[0] != want.ProbabilityOfDefault || len(got.Warnings) != len(want.Warnings) {
		t.Errorf("examples/infer.json: %d %+v, /predict of applicant.json %+v", w.Code, got, want)
	}
}

// A category code sent as INT64 means what it means on /predict; an
// unseen level and a missing value are scored with the same warnings.
func TestV2SameInputRules(t *testing.T) {
	s, _, _ := loaded(t, Options{})
	h := s.Handler()
	col, _ := table(t).Column("purpose")
	for _, tc := range []struct {
		dt     string
		v      any
		pv     any // the same value on /predict
		reason string
	}{
		{"INT64", 0, col.Levels[0], ""},
		{"BYTES", "crypto", "crypto", "unseen_category"},
		{"BYTES", "NA", nil, ""},
		{"BYTES", nil, nil, ""},
		{"INT32", 99, 99, "unseen_category"},
	} {
		rec := record(t, 0)
		rec["purpose"] = tc.pv
		w := do(t, h, "POST", "/predict", ctJSON, mustJSON(t, rec))
		want := decode[PredictResponse](t, w.Body)
		w = do(t, h, "POST", inferPath, "", inferBody(t, s, []int{0}, func(in []map[string]any) {
			p := tensorOf(in, "purpose")
			p["datatype"], p["data"] = tc.dt, []any{tc.v}
		}))
		got := decode[V2InferResponse](t, w.Body)
		if w.Code != 200 || got.Outputs[0].Data[0] != want.ProbabilityOfDefault {
			t.Errorf("purpose %s %v: %d %+v, /predict %v", tc.dt, tc.v, w.Code, got, want.ProbabilityOfDefault)
			continue
		}
		if len(got.Warnings) != len(want.Warnings) || tc.reason != "" && (got.Warnings[0].Reason != tc.reason || got.Warnings[0].Field != "purpose" || got.Warnings[0].Instance != 0) {
			t.Errorf("purpose %s %v: warnings %+v, /predict %+v", tc.dt, tc.v, got.Warnings, want.Warnings)
		}
	}
	// --strict refuses the unseen level, as on /predict
	st, _, _ := loaded(t, Options{Strict: true})
	w := do(t, st.Handler(), "POST", inferPath, "", inferBody(t, st, []int{0, 1}, func(in []map[string]any) {
		tensorOf(in, "purpose")["data"] = []any{"car (new)", "crypto"}
	}))
	if b := decode[V2Error](t, w.Body); w.Code != 400 || len(b.Fields) != 1 || b.Fields[0].Reason != "unseen_category" || *b.Fields[0].Instance != 1 {
		t.Errorf("--strict unseen level: %d %+v", w.Code, b)
	}
}

// Bad requests are refused with the protocol's {"error": "..."}, a 4xx,
// and a message that names what is wrong.
func TestV2BadInput(t *testing.T) {
	s, reg, _ := loaded(t, Options{MaxBatch: 5, MaxBody: 64 << 10})
	h := s.Handler()
	body := func(edit func(in []map[string]any)) string { return inferBody(t, s, []int{0, 1}, edit) }
	drop := func(name string) func(in []map[string]any) {
		return func(in []map[string]any) {
			tensorOf(in, name)["drop"] = true
		}
	}
	for _, tc := range []struct {
		name   string
		body   string
		ctype  string
		status int
		want   string
	}{
		{"empty", ``, "", 400, "request body is empty"},
		{"malformed", `{"inputs": [`, "", 400, "malformed JSON"},
		{"not an object", `[1]`, "", 400, "JSON array"},
		{"no inputs", `{"id": "x"}`, "", 400, "inputs: missing"},
		{"empty inputs", `{"inputs": []}`, "", 400, "the list is empty"},
		{"unexpected field", `{"model": 1, "inputs": []}`, "", 400, "model: unexpected field"},
		{"wrong datatype", body(func(in []map[string]any) { tensorOf(in, "purpose")["datatype"] = "FP64" }), "", 400, `input "purpose": datatype FP64: want BYTES`},
		{"bytes for a number", body(func(in []map[string]any) {
			tensorOf(in, "credit_amount")["datatype"] = "BYTES"
			tensorOf(in, "credit_amount")["data"] = []any{"1", "2"}
		}), "", 400, `datatype BYTES: want FP64`},
		{"unknown datatype", body(func(in []map[string]any) { tensorOf(in, "credit_amount")["datatype"] = "FP128" }), "", 400, `datatype "FP128"`},
		{"string in FP64", body(func(in []map[string]any) { tensorOf(in, "credit_amount")["data"] = []any{1000, "x"} }), "", 400, `got the string "x", want a number or null`},
		{"string in INT64 codes", body(func(in []map[string]any) {
			tensorOf(in, "purpose")["datatype"] = "INT64"
			tensorOf(in, "purpose")["data"] = []any{1, "car (new)"}
		}), "", 400, "INT64 tensor holds a JSON string"},
		{"number in BYTES", body(func(in []map[string]any) { tensorOf(in, "purpose")["data"] = []any{"car (new)", 3} }), "", 400, "BYTES tensor holds a JSON number"},
		{"fraction in INT64", body(func(in []map[string]any) {
			tensorOf(in, "duration_in_month")["datatype"] = "INT64"
			tensorOf(in, "duration_in_month")["data"] = []any{12, 1.5}
		}), "", 400, "1.5 is not a value of an INT64 tensor"},
		{"shape mismatch", body(func(in []map[string]any) { tensorOf(in, "purpose")["shape"] = []int{3} }), "", 400, "shape says 3 rows, data holds 2"},
		{"shape rank 3", body(func(in []map[string]any) { tensorOf(in, "purpose")["shape"] = []int{2, 1, 1} }), "", 400, "want [N] or [N, 1]"},
		{"shape [N, 2]", body(func(in []map[string]any) { tensorOf(in, "purpose")["shape"] = []int{1, 2} }), "", 400, "want [N] or [N, 1]"},
		{"negative shape", body(func(in []map[string]any) { tensorOf(in, "purpose")["shape"] = []int{-1} }), "", 400, "shape: want a list of dimensions"},
		{"nested with shape [N]", body(func(in []map[string]any) { tensorOf(in, "purpose")["data"] = [][]any{{"car (new)"}, {"car (new)"}} }), "", 400, "wants a flat list"},
		{"two values per row", body(func(in []map[string]any) {
			tensorOf(in, "purpose")["shape"] = []int{2, 1}
			tensorOf(in, "purpose")["data"] = [][]any{{"car (new)", "x"}, {"car (new)"}}
		}), "", 400, "2 values, want one per row"},
		{"mixed nesting", body(func(in []map[string]any) { tensorOf(in, "purpose")["data"] = []any{"car (new)", []any{"x"}} }), "", 400, "mixes values and lists"},
		{"ragged", body(func(in []map[string]any) {
			tensorOf(in, "purpose")["shape"] = []int{3}
			tensorOf(in, "purpose")["data"] = []any{"car (new)", "car (new)", "car (new)"}
		}), "", 400, "every input has one value per row"},
		{"missing input", body(drop("credit_amount")), "", 400, `field "credit_amount": required feature is missing`},
		{"unknown input", body(func(in []map[string]any) {
			in[0] = map[string]any{"name": "zodiac", "datatype": "BYTES", "shape": []int{2}, "data": []any{"leo", "leo"}}
		}), "", 400, `field "zodiac": not a feature of the model`},
		{"input twice", body(func(in []map[string]any) { in[1]["name"] = in[0]["name"] }), "", 400, "given twice"},
		{"no data", body(func(in []map[string]any) { delete(tensorOf(in, "purpose"), "data") }), "", 400, `("purpose").data: missing`},
		{"no datatype", body(func(in []map[string]any) { delete(tensorOf(in, "purpose"), "datatype") }), "", 400, `.datatype: missing`},
		{"unknown output", strings.Replace(body(nil), `{"inputs"`, `{"outputs": [{"name": "score"}], "inputs"`, 1), "", 400, `unknown output "score"`},
		{"id not UTF-8", strings.Replace(body(nil), `{"inputs"`, "{\"id\": \"\xff\", \"inputs\"", 1), "", 400, "id: not valid UTF-8"},
		{"id not a string", strings.Replace(body(nil), `{"inputs"`, `{"id": 7, "inputs"`, 1), "", 400, "id: is a JSON number"},
		{"too many rows", inferBody(t, s, []int{0, 1, 2, 3, 4, 5}, nil), "", 413, "6 rows, at most 5"},
		{"huge body", `{"inputs": [{"name": "purpose", "datatype": "BYTES", "shape": [1], "data": ["` + strings.Repeat("x", 70<<10) + `"]}]}`, "", 413, "larger than 65536 bytes"},
		{"csv", "a,b\n1,2\n", "text/csv", 400, "malformed JSON"},
	} {
		w := do(t, h, "POST", inferPath, tc.ctype, tc.body)
		var b V2Error
		if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil || w.Code != tc.status || !strings.Contains(b.Error, tc.want) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, w.Code, w.Body, tc.status, tc.want)
		}
	}
	if w := do(t, h, "POST", inferPath, "", body(nil), "Content-Encoding", "gzip"); w.Code != 415 || !strings.Contains(w.Body.String(), "send the body uncompressed") {
		t.Errorf("gzip body: %d %s", w.Code, w.Body)
	}
	// the binary tensor extension, broken in each way
	bin, n := binaryBody(t, s, []int{0, 1}, nil)
	for _, tc := range []struct {
		name, body, header, want string
	}{
		{"header not a number", bin, "x", `Inference-Header-Content-Length "x"`},
		{"header past the body", bin, fmt.Sprint(len(bin) + 1), "the body has"},
		{"bytes left over", bin + "x", fmt.Sprint(n), "bytes follow the JSON part"},
		{"bytes missing", bin[:len(bin)-1], fmt.Sprint(n), "bytes of binary data are left"},
		{"data and binary", strings.Replace(bin, `"parameters":{"binary_data_size":16}`, `"parameters":{"binary_data_size":16},"data":[1,2]`, 1), fmt.Sprint(n + len(`,"data":[1,2]`)), "both data and parameters.binary_data_size"},
		{"not whole elements", strings.Replace(bin, `"binary_data_size":16}`, `"binary_data_size":12}`, 1), fmt.Sprint(n), "not whole FP64 elements"},
	} {
		w := do(t, h, "POST", inferPath, "", tc.body, "Inference-Header-Content-Length", tc.header)
		var b V2Error
		if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil || w.Code != 400 || !strings.Contains(b.Error, tc.want) {
			t.Errorf("binary, %s: %d %s, want 400 with %q", tc.name, w.Code, w.Body, tc.want)
		}
	}
	// problems are capped, as on every path
	var big []any
	for range 5 {
		big = append(big, "x")
	}
	body5 := inferBody(t, s, []int{0, 1, 2, 3, 4}, func(in []map[string]any) {
		for _, x := range in {
			x["data"] = big
			if x["datatype"] == "BYTES" {
				x["data"] = []any{1, 2, 3, 4, 5}
			}
		}
	})
	// one problem more than listed, whatever the number of features
	body5 = strings.Replace(body5, `{"inputs":[`, `{"inputs":[{"name":"zodiac","datatype":"BYTES","shape":[5],"data":["a","b","c","d","e"]},`, 1)
	w := do(t, h, "POST", inferPath, "", body5)
	if b := decode[V2Error](t, w.Body); w.Code != 400 || len(b.Fields) != maxProblems || !strings.Contains(b.Error, "decoding stopped") {
		t.Errorf("problem cap: %d, %d fields: %s", w.Code, len(b.Fields), b.Error)
	}
	if n := testutil.ToFloat64(s.m.invalid.WithLabelValues(ReasonWrongType)); n == 0 {
		t.Error("wrong datatypes not counted in api_validation_errors_total")
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
}

// Health, metadata and readiness follow the model: 503 before a load,
// the loaded model's name and version after; another name is 404.
func TestV2Probes(t *testing.T) {
	src := &fakeSource{dirs: map[string]string{"1": writeModel(t, t.TempDir(), 10, "run1"), "2": writeModel(t, t.TempDir(), 20, "run2")}, cur: "1"}
	s, _ := newServer(t, src, Options{})
	h := s.Handler()
	for path, code := range map[string]int{"/v2/health/live": 200, "/v2/health/ready": 503, "/v2/models/fake": 503, "/v2/models/fake/ready": 503, "/v2": 200} {
		if w := do(t, h, "GET", path, "", ""); w.Code != code {
			t.Errorf("before a load: %s %d %s, want %d", path, w.Code, w.Body, code)
		}
	}
	if w := do(t, h, "POST", inferPath, "", "{}"); w.Code != 503 || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"error":"no model loaded yet"`) {
		t.Errorf("infer before a load: %d %s", w.Code, w.Body)
	}
	if _, err := s.Reload(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	for path, code := range map[string]int{"/v2/health/ready": 200, "/v2/models/fake/ready": 200, "/v2/models/fake/versions/1/ready": 200,
		"/v2/models/other/ready": 404, "/v2/models/fake/versions/2": 404, "/v2/models/other": 404} {
		if w := do(t, h, "GET", path, "", ""); w.Code != code {
			t.Errorf("%s %d %s, want %d", path, w.Code, w.Body, code)
		}
	}
	w := do(t, h, "GET", "/v2/models/fake", "", "")
	md := decode[V2ModelMetadata](t, w.Body)
	schema := s.current.Load().schema
	if md.Name != "fake" || len(md.Versions) != 1 || md.Versions[0] != "1" || md.Platform == "" || len(md.Inputs) != len(schema.Features) ||
		len(md.Outputs) != 1 || md.Outputs[0].Name != "probability_of_default" {
		t.Fatalf("metadata %+v", md)
	}
	for j, in := range md.Inputs {
		f := schema.Features[j]
		want := "FP64"
		if f.Type == data.Categorical {
			want = "BYTES"
		}
		if in.Name != f.Name || in.Datatype != want || fmt.Sprint(in.Shape) != "[-1]" {
			t.Errorf("input %d: %+v, want %s %s [-1]", j, in, f.Name, want)
		}
	}
	// a reload switches the version that metadata and infer name
	src.set("2")
	if _, err := s.Reload(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if w := do(t, h, "GET", "/v2/models/fake/versions/2/ready", "", ""); w.Code != 200 {
		t.Errorf("after reload: %d %s", w.Code, w.Body)
	}
	w = do(t, h, "POST", inferPath, "", inferBody(t, s, []int{0}, nil))
	if got := decode[V2InferResponse](t, w.Body); got.ModelVersion != "2" {
		t.Errorf("infer after reload names version %q", got.ModelVersion)
	}
	w = do(t, h, "GET", "/metrics", "", "")
	for _, m := range []string{`api_requests_total{endpoint="/v2/models/{name}/infer",status="200"} 1`, `api_requests_total{endpoint="/v2/models/{name}/infer",status="503"} 1`,
		`api_requests_total{endpoint="/v2/models/{name}/ready",status="404"} 1`, `api_requests_total{endpoint="/v2/health/ready",status="200"} 1`,
		`api_request_latency_seconds_count{endpoint="/v2/models/{name}"}`} {
		if !strings.Contains(w.Body.String(), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

func TestV2Endpoint(t *testing.T) {
	for path, want := range map[string]string{
		"/v2/models/m/infer": epV2Infer, "/v2/models/m/versions/3/infer": epV2Infer, "/v2/models/m": epV2Model,
		"/v2/models/m/versions/3": epV2Model, "/v2/models/m/ready": epV2ModelReady, "/v2/models/m/versions/3/ready": epV2ModelReady,
		"/v2/health/live": "/v2/health/live", "/v2": "/v2", "/v2/models/": "other", "/v2/models/m/x": "other", "/v2/models/m/versions//infer": "other",
	} {
		if got := endpoints[endpointOf(path)]; got != want {
			t.Errorf("%s: label %s, want %s", path, got, want)
		}
	}
	if endpointOf("/v2/models/m/infer") >= epScoring {
		t.Error("infer does not count against --max-inflight")
	}
}

// FuzzDecodeInfer: no body makes the infer decoder panic, every refusal
// is a 4xx naming a reason, and accepted rows score.
func FuzzDecodeInfer(f *testing.F) {
	for _, s := range []string{
		`{"inputs": [{"name": "duration_in_month", "datatype": "FP64", "shape": [2], "data": [12, 24]}]}`,
		`{"inputs": [{"name": "purpose", "datatype": "BYTES", "shape": [1, 1], "data": [["car (new)"]]}], "id": "a"}`,
		`{"inputs": [{"name": "purpose", "datatype": "INT64", "shape": [2], "data": [1, null]}, {"name": "age_in_years", "datatype": "INT32", "shape": [2, 1], "data": [[30], [40]]}]}`,
		`{"inputs": [{"name": "credit_amount", "datatype": "FP32", "shape": [1], "data": [1e39]}], "outputs": [{"name": "probability_of_default"}]}`,
		`{"inputs": [{"data": [1], "shape": [1], "datatype": "FP64", "name": "x"}], "parameters": {}}`,
		`{"inputs": [{"name": "purpose", "datatype": "BYTES", "shape": [2], "data": ["a", ["b"]]}]}`,
		`{"inputs": []}`, `{}`, `[]`, `{"inputs": [1]}`, `{"inputs": [{"shape": [1, 2, 3]}]}`,
		"{\"inputs\": [{\"name\": \"purpose\", \"datatype\": \"BYTES\", \"shape\": [1], \"parameters\": {\"binary_data_size\": 7}}]}\x00\x03\x00\x00\x00car",
		"{\"inputs\": [{\"name\": \"age_in_years\", \"datatype\": \"FP64\", \"shape\": [1], \"parameters\": {\"binary_data_size\": 8}}]}\x00\x00\x00\x00\x00\x00\x00\x40",
	} {
		f.Add([]byte(s))
	}
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		snap := fuzzSnapshot(t)
		// the binary extension: the JSON part ends at the first NUL byte,
		// the binary part follows it
		jsonLen := bytes.IndexByte(b, 0)
		if jsonLen >= 0 {
			b = append(b[:jsonLen:jsonLen], b[jsonLen+1:]...)
		}
		for _, ignore := range []bool{false, true} {
			decodeFuzz(t, snap, b, ignore, jsonLen)
		}
	})
}

func decodeFuzz(t *testing.T, snap *snapshot, b []byte, ignore bool, jsonLen int) {
	var sc scanner
	var rs rowSet
	rs.reset(snap.enc, 10, ignore, false)
	_, id := decodeInfer(&sc, &rs, nil, b, jsonLen)
	x, e := rs.result(nil)
	if e != nil {
		checkRefusal(t, e)
		return
	}
	checkRows(t, snap, x, -1)
	if jsonLen < 0 && !json.Valid(b) || jsonLen >= 0 && !json.Valid(b[:jsonLen]) {
		t.Fatalf("accepted a body encoding/json refuses")
	}
	if id != nil && (!json.Valid(id) || !utf8.Valid(id)) {
		t.Fatalf("id %q is not JSON", id)
	}
	for _, r := range x {
		for j, v := range r {
			if math.IsInf(v, 0) {
				t.Fatalf("feature %d: %v accepted", j, v)
			}
		}
	}
}

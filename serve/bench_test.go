package serve

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// replay is a request whose body can be read again, and a response
// writer that forgets what it is given, so that a benchmark measures the
// handler's own work and allocations, not httptest's.
type replay struct {
	bytes.Reader
	body []byte
}

func (r *replay) Close() error { return nil }

type sink struct {
	h      http.Header
	status int
	n      int
}

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) WriteHeader(code int)        { s.status = code }
func (s *sink) Write(b []byte) (int, error) { s.n += len(b); return len(b), nil }

// benchHandler serves the same request b.N times through the whole
// handler (instrument, mux, decode, validate, predict, metrics, drift),
// with a model of 100 trees as the serving benchmark's (cmd/mkmodel).
func benchHandler(b *testing.B, path, ctype string, body []byte) {
	src := &fakeSource{dirs: map[string]string{"1": writeModel(b, b.TempDir(), 100, "run1")}, cur: "1"}
	s, _ := newServer(b, src, Options{})
	if _, err := s.Reload(context.Background(), false); err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	r := httptest.NewRequest("POST", path, nil)
	r.Header.Set("Content-Type", ctype)
	rb := &replay{body: body}
	r.Body = rb
	r.ContentLength = int64(len(body))
	w := &sink{h: http.Header{}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rb.Reset(body)
		clear(w.h)
		w.status = 0
		h.ServeHTTP(w, r)
		if w.status != 0 && w.status != 200 {
			b.Fatal(w.status)
		}
	}
}

// BenchmarkInvocationsRow is one single-row /invocations request
// (dataframe_split, as cmd/mkmodel writes the serving benchmark's).
func BenchmarkInvocationsRow(b *testing.B) {
	tb := table(b)
	row := []any{}
	for _, v := range tb.Matrix([]int{0})[0] {
		row = append(row, v)
	}
	body := []byte(mustJSON(b, map[string]any{"dataframe_split": map[string]any{"columns": tb.FeatureNames(), "data": [][]any{row}}}))
	benchHandler(b, "/invocations", ctJSON, body)
}

// BenchmarkInvocationsRecord is one single-row /invocations request in
// dataframe_records with category levels.
func BenchmarkInvocationsRecord(b *testing.B) {
	body := []byte(mustJSON(b, map[string]any{"dataframe_records": []any{record(b, 0)}}))
	benchHandler(b, "/invocations", ctJSON, body)
}

// BenchmarkPredictRow is one single-applicant /predict request.
func BenchmarkPredictRow(b *testing.B) {
	benchHandler(b, "/predict", ctJSON, []byte(mustJSON(b, record(b, 0))))
}

// BenchmarkPredictBatch is a /predict of 100 applicants.
func BenchmarkPredictBatch(b *testing.B) {
	var list []any
	for i := range 100 {
		list = append(list, record(b, i))
	}
	benchHandler(b, "/predict", ctJSON, []byte(mustJSON(b, map[string]any{"instances": list})))
}

// BenchmarkV2InferRow is one single-row Open Inference Protocol infer
// request: a tensor per feature, BYTES levels and FP64 numbers.
func BenchmarkV2InferRow(b *testing.B) {
	s, _, _ := loaded(b, Options{})
	benchHandler(b, inferPath, ctJSON, []byte(inferBody(b, s, []int{0}, nil)))
}

// BenchmarkV2InferBatch is an infer request of 100 rows.
func BenchmarkV2InferBatch(b *testing.B) {
	s, _, _ := loaded(b, Options{})
	rows := make([]int, 100)
	for i := range rows {
		rows[i] = i
	}
	benchHandler(b, inferPath, ctJSON, []byte(inferBody(b, s, rows, nil)))
}

package serve

import (
	"bytes"
	"net/http/httptest"
	"testing"
)

// BenchmarkInvocationsRow is one single-row /invocations request through
// the whole handler (decode, validate, predict, metrics, drift), no network.
func BenchmarkInvocationsRow(b *testing.B) {
	s, _, _ := loaded(b, Options{})
	h := s.Handler()
	tb := table(b)
	body := []byte(mustJSON(b, map[string]any{"dataframe_records": []any{tb.Record(0)}}))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/invocations", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body)
		}
	}
}

// BenchmarkPredictRow is one single-applicant /predict request.
func BenchmarkPredictRow(b *testing.B) {
	s, _, _ := loaded(b, Options{})
	h := s.Handler()
	body := []byte(mustJSON(b, record(b, 0)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/predict", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body)
		}
	}
}

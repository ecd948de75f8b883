package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

type replay struct{ bytes.Reader }

func (*replay) Close() error { return nil }

type sink struct {
	h      http.Header
	status int
}

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) WriteHeader(code int)        { s.status = code }
func (s *sink) Write(b []byte) (int, error) { return len(b), nil }

// request is the serving benchmark's single-row body, as cmd/mkmodel
// writes it: a dataframe_split of the German features.
func request(t testing.TB) []byte {
	cols := []string{"status_of_existing_checking_account", "duration_in_month", "credit_history", "purpose", "credit_amount",
		"savings_account_and_bonds", "present_employment_since", "installment_rate_in_percentage_of_disposable_income",
		"personal_status_and_sex", "other_debtors_or_guarantors", "present_residence_since", "property", "age_in_years",
		"other_installment_plans", "housing", "number_of_existing_credits_at_this_bank", "job",
		"number_of_people_being_liable_to_provide_maintenance_for", "telephone", "foreign_worker"}
	row := []float64{0, 6, 1, 7, 1169, 4, 1, 4, 1, 2, 4, 2, 67, 1, 1, 2, 1, 1, 1, 1}
	b, err := json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": cols, "data": [][]float64{row}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFloor(t *testing.T) {
	for _, mode := range []string{"unmarshal", "decoder"} {
		h, err := handler(mode)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/invocations", bytes.NewReader(request(t))))
		if w.Code != 200 || w.Body.String() != "{\"predictions\": [0.5]}\n" {
			t.Errorf("%s: %d %s", mode, w.Code, w.Body)
		}
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/invocations", bytes.NewReader([]byte("{"))))
		if w.Code != 400 {
			t.Errorf("%s: malformed body answered %d", mode, w.Code)
		}
	}
	if _, err := handler("x"); err == nil {
		t.Error("unknown mode accepted")
	}
}

// BenchmarkFloor is the floor's handler alone, as serve's
// BenchmarkInvocationsRow is pipeline serve's: same body, no network.
func BenchmarkFloor(b *testing.B) {
	for _, mode := range []string{"unmarshal", "decoder"} {
		b.Run(mode, func(b *testing.B) {
			h, _ := handler(mode)
			body := request(b)
			r := httptest.NewRequest("POST", "/invocations", nil)
			rb := &replay{}
			r.Body = rb
			w := &sink{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				rb.Reset(body)
				clear(w.h)
				h.ServeHTTP(w, r)
			}
		})
	}
}

package serve

import (
	"math"
	"strings"
	"testing"
)

// scoreVia answers one applicant through /predict, /explain and the
// /invocations formats, and returns each path's probability (NaN when
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

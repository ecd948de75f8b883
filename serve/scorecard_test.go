package serve

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/reasons"
	"github.com/creditrisk/engine/scorecard"
)

// TestScorecardAnswers serves a scorecard: /predict answers the model's
// probability and its score in points, /explain the points lost against
// each feature's best bin with the default statements, as the scorecard's
// own Reasons gives them (protected features left out).
func TestScorecardAnswers(t *testing.T) {
	tb := table(t)
	m, err := model.Train(context.Background(), model.FamilyScorecard, tb, nil, model.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc := m.(*scorecard.Model)
	dir := filepath.Join(t.TempDir(), "model")
	if err := model.Save(dir, m, model.SaveOptions{Example: tb.Matrix([]int{0, 1})}); err != nil {
		t.Fatal(err)
	}
	src, _ := NewSource(dir, nil)
	s, _ := newServer(t, src, Options{ReasonCodes: 3})
	if _, err := s.Reload(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	set := reasons.Default()
	checked := 0
	for i := range 40 {
		row := tb.Matrix([]int{i})[0]
		want, _ := m.Predict([][]float64{row})
		_, score, _ := sc.Points(row)
		w := do(t, h, "POST", "/predict", ctJSON, mustJSON(t, record(t, i)))
		if w.Code != 200 {
			t.Fatalf("predict: %d %s", w.Code, w.Body)
		}
		got := decode[PredictResponse](t, w.Body)
		if got.ProbabilityOfDefault != want[0] || got.Score == nil || *got.Score != score {
			t.Fatalf("row %d: predict %+v, want probability %v, score %d", i, got.Prediction, want[0], score)
		}
		w = do(t, h, "POST", "/explain", ctJSON, mustJSON(t, record(t, i)))
		if w.Code != 200 {
			t.Fatalf("explain: %d %s", w.Code, w.Body)
		}
		ex := decode[ExplainResponse](t, w.Body)
		if ex.Score == nil || *ex.Score != score {
			t.Fatalf("row %d: explain score %v, want %d", i, ex.Score, score)
		}
		var lost []scorecard.Reason
		all, _ := sc.Reasons(row)
		for _, r := range all {
			if !set.Protected(r.Feature) {
				lost = append(lost, r)
			}
		}
		if len(ex.Reasons) != min(3, len(lost)) {
			t.Fatalf("row %d: %d reasons, want %d of %v", i, len(ex.Reasons), min(3, len(lost)), lost)
		}
		for k, r := range ex.Reasons {
			text, _ := set.Statement(lost[k].Feature, lost[k].Direction)
			if r.Feature != lost[k].Feature || r.Amount != float64(lost[k].Lost) || r.Unit != model.UnitPoints || r.Statement != text {
				t.Fatalf("row %d reason %d: %+v, want %v (%q)", i, k, r, lost[k], text)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no reasons checked")
	}
	// A batch answers one score per applicant.
	w := do(t, h, "POST", "/predict", ctJSON, mustJSON(t, map[string]any{"instances": []map[string]any{record(t, 0), record(t, 1)}}))
	b := decode[BatchResponse](t, w.Body)
	for i, p := range b.Predictions {
		_, score, _ := sc.Points(tb.Matrix([]int{i})[0])
		if p.Score == nil || *p.Score != score {
			t.Fatalf("batch row %d: score %v, want %d", i, p.Score, score)
		}
	}
}

// TestExplainStatementsGBDT: /explain of a gbdt model gives statements
// from the reasons set passed in Options, its TreeSHAP contributions as
// amounts; /predict has no score.
func TestExplainStatementsGBDT(t *testing.T) {
	dir := writeModel(t, t.TempDir(), 20, "")
	set, err := reasons.Parse([]byte("version: 1\nfallback: Something else\nfeatures:\n  "+table(t).Columns[0].Name+":\n    any: First feature\n"), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src, _ := NewSource(dir, nil)
	s, _ := newServer(t, src, Options{Reasons: set, ReasonCodes: 50})
	if _, err := s.Reload(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	if p := decode[PredictResponse](t, do(t, h, "POST", "/predict", ctJSON, mustJSON(t, record(t, 3))).Body); p.Score != nil {
		t.Fatalf("gbdt answered a score %d", *p.Score)
	}
	ex := decode[ExplainResponse](t, do(t, h, "POST", "/explain", ctJSON, mustJSON(t, record(t, 3))).Body)
	if len(ex.Reasons) == 0 || len(ex.Reasons) != len(ex.ReasonCodes) {
		t.Fatalf("%d reasons, %d reason codes", len(ex.Reasons), len(ex.ReasonCodes))
	}
	for k, r := range ex.Reasons {
		want := "Something else"
		if r.Feature == table(t).Columns[0].Name {
			want = "First feature"
		}
		if r.Statement != want || r.Amount != ex.ReasonCodes[k].Contribution || r.Unit != model.UnitLogOdds {
			t.Errorf("reason %+v, code %+v, want statement %q", r, ex.ReasonCodes[k], want)
		}
	}
}

package promote

import (
	"bytes"
	"testing"
	"time"

	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/internal/testkit"
)

// sampleDecision is a refused challenger: worse AUC, significantly, with a
// schema change.
func sampleDecision() *Decision {
	p := DefaultPolicy()
	dl := &evaluate.DeLongResult{AUCA: 0.6845, AUCB: 0.7704, Diff: -0.0859, Z: -2.71, P: 0.0067}
	d := &Decision{
		Name: "credit", Alias: "champion", Policy: p,
		Candidate:        VersionRef{Version: "2", RunID: "r2"},
		Champion:         &VersionRef{Version: "1", RunID: "r1"},
		TestSource:       "runs:/r2/evaluation.json",
		Holdout:          "runs:/r2/holdout.csv",
		HoldoutRows:      200,
		Label:            "creditability",
		Positive:         "bad",
		CandidateTest:    map[string]float64{"auc": 0.6845},
		CandidateHoldout: map[string]float64{"auc": 0.6845},
		ChampionHoldout:  map[string]float64{"auc": 0.7704},
		Comparison:       &Comparison{DeLong: dl, PSI: 0.31},
	}
	d.Gates = absoluteGates(p, &evaluate.Report{AUC: 0.6845, Brier: 0.2059, ECE: 0.1371}, d.TestSource)
	d.Gates = append(d.Gates, championGates(p, d.Comparison, "1")...)
	d.Gates = append(d.Gates, Gate{Name: GateSchema, Status: Fail, Op: "==", Value: 1, Margin: -1, Detail: "age: required by the champion, not by the candidate"})
	d.Passed = len(d.FailedGates()) == 0
	return d
}

func TestWriteDecisionGolden(t *testing.T) {
	var buf bytes.Buffer
	d := sampleDecision()
	if err := WriteDecision(&buf, d); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("---\n")
	first := &Decision{Name: "credit", Alias: "champion", Candidate: VersionRef{Version: "1", RunID: "r1"}, TestSource: "runs:/r1/evaluation.json",
		Applied: true, Stage: "Production", RunID: "p1", PromotedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	first.Gates = append(absoluteGates(DefaultPolicy(), &evaluate.Report{AUC: 0.77, Brier: 0.17, ECE: 0.04}, first.TestSource),
		skippedChampionGates(DefaultPolicy(), "no version holds @champion")...)
	first.Passed = true
	if err := WriteDecision(&buf, first); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "decision.golden", buf.Bytes())
	if got := (&GateError{Failed: d.FailedGates()}).Error(); got != "promotion refused: gate(s) min_auc, max_ece, auc_margin, delong, schema failed" {
		t.Errorf("GateError = %q", got)
	}
	// The gates travel as a version tag: compact and under MLflow 2.9's
	// 5000-character tag values.
	if n := len(gatesJSON(d.Gates)); n > 2500 {
		t.Errorf("gates JSON is %d characters", n)
	}
}

func TestWriteModelGolden(t *testing.T) {
	m := &ModelDetail{
		ModelSummary: ModelSummary{Name: "credit", Versions: 2, LatestVersion: "2", Aliases: map[string]string{"champion": "1"}},
		History:      map[string][]string{"champion": {"1"}},
		Versions: []VersionSummary{
			{Version: "2", Aliases: []string{}, Stage: "Archived", Metrics: map[string]float64{"test_auc": 0.68}, RunID: "r2",
				Created: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), PromotedAt: "2026-01-02T03:05:00Z", PromotedBy: "ana"},
			{Version: "1", Aliases: []string{"champion"}, Stage: "Production", Metrics: map[string]float64{"test_auc": 0.77, "test_ks": 0.45, "test_brier": 0.17}, RunID: "r1",
				Created: time.Date(2026, 1, 1, 3, 4, 0, 0, time.UTC), PromotedAt: "2026-01-02T04:00:00Z", PromotedBy: "bo", Kind: "rollback"},
		},
	}
	var buf bytes.Buffer
	if err := WriteModel(&buf, m); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("---\n")
	if err := WriteModels(&buf, []ModelSummary{m.ModelSummary, {Name: "empty"}}); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "model.golden", buf.Bytes())
}

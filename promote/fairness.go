package promote

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/report"
	"github.com/creditrisk/engine/tracking"
)

// fairnessGate checks the candidate's lowest adverse impact ratio on its
// test split (the run's fairness.json, written by train --protected)
// against the policy's min_adverse_impact_ratio. A candidate whose run
// measured no protected characteristic fails: a policy that asks for the
// gate cannot be met by not measuring.
func fairnessGate(ctx context.Context, b tracking.Backend, p Policy, cand *mlflow.ModelVersion, work string) (Gate, error) {
	path, err := runFile(ctx, b, cand.RunID, tracking.FairnessFile, filepath.Join(work, tracking.FairnessFile))
	if err != nil {
		return Gate{}, err
	}
	if path == "" {
		return Gate{Name: GateAdverseImpact, Status: Fail, Op: ">=", Threshold: p.MinAdverseImpactRatio, Value: 0, Margin: -p.MinAdverseImpactRatio,
			Detail: fmt.Sprintf("candidate run %s measured no protected characteristic (train with --protected COLUMN)", cand.RunID)}, nil
	}
	f, err := report.ReadFairness(path)
	if err != nil {
		return Gate{}, fmt.Errorf("%s of run %s: %w", tracking.FairnessFile, cand.RunID, err)
	}
	ratio, column, group, ok := f.MinAdverseImpactRatio()
	if !ok {
		return Gate{}, fmt.Errorf("%s of run %s lists no characteristic", tracking.FairnessFile, cand.RunID)
	}
	var rep *evaluate.FairnessReport
	for _, c := range f.Characteristics {
		if c.Column == column {
			rep = c.Report
		}
	}
	rate := func(g string) float64 {
		for _, x := range rep.Groups {
			if x.Group == g {
				return x.ApprovalRate
			}
		}
		return 0
	}
	detail := fmt.Sprintf("lowest on the test split: %s group %q approved at %.1f%%, the most favoured %q at %.1f%% (cut-off %g; the four-fifths rule's reference is %g)",
		column, group, 100*rate(group), rep.MostFavoured, 100*rate(rep.MostFavoured), f.Cutoff, evaluate.FourFifths)
	return atLeast(GateAdverseImpact, ratio, p.MinAdverseImpactRatio, detail), nil
}

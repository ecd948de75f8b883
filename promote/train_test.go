package promote

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/tracking"
	"github.com/creditrisk/engine/train"
)

// TestWithTrainedVersions promotes versions registered by train.Run itself,
// on both servers, so that what promote reads (model/, evaluation.json,
// holdout.csv, the label in the schema) is what train writes.
func TestWithTrainedVersions(t *testing.T) {
	for _, srv := range servers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			f := newFixture(t, srv.URI)
			ctx := context.Background()
			var vs []string
			for _, family := range []string{model.FamilyLogistic, model.FamilyGBDT} {
				cfg := train.DefaultConfig()
				cfg.Model.Family = family
				cfg.Tracking.Experiment = "promote-test-runs"
				cfg.Tracking.Register = f.name
				res, err := train.Run(ctx, cfg, train.Options{Tracking: f.c, OutDir: filepath.Join(t.TempDir(), family)})
				if err != nil {
					t.Fatalf("train %s: %v", family, err)
				}
				vs = append(vs, res.Registered.Version)
			}
			if _, err := Promote(ctx, f.c, f.opts(vs[0], loose())); err != nil {
				t.Fatalf("promote v%s: %v", vs[0], err)
			}
			o := f.opts("", loose())
			o.Latest, o.DryRun = true, true
			d, err := Promote(ctx, f.c, o)
			if err != nil {
				t.Fatalf("dry run of the latest: %v", err)
			}
			if d.Candidate.Version != vs[1] || d.Champion == nil || d.Champion.Version != vs[0] {
				t.Fatalf("decision %+v", d)
			}
			if !strings.HasSuffix(d.Holdout, "/"+tracking.HoldoutFile) || !strings.HasSuffix(d.TestSource, "/"+tracking.EvaluationFile) || d.HoldoutRows != 200 {
				t.Errorf("holdout %q (%d rows), test metrics from %q", d.Holdout, d.HoldoutRows, d.TestSource)
			}
			// train's holdout is its test split: the candidate's holdout AUC
			// is its recorded test AUC.
			if got, want := d.CandidateHoldout["auc"], d.CandidateTest["auc"]; got != want {
				t.Errorf("holdout AUC %v, recorded test AUC %v", got, want)
			}
			o.RunID, o.Latest = d.Candidate.RunID, false
			if d2, err := Promote(ctx, f.c, o); err != nil || d2.Candidate.Version != vs[1] {
				t.Errorf("candidate by run id: %+v, %v", d2, err)
			}
		})
	}
}

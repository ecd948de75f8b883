package promote

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/report"
	"github.com/creditrisk/engine/train"
)

// TestFairnessGate: with min_adverse_impact_ratio set, a candidate trained
// with --protected whose lowest adverse impact ratio is below it is
// refused, the gate naming the characteristic, group and approval rates;
// at a threshold below the ratio it passes; a candidate that measured
// nothing fails. Off (0), the gate is not in the table. On both servers.
func TestFairnessGate(t *testing.T) {
	for _, srv := range servers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			f := newFixture(t, srv.URI)
			ctx := context.Background()
			trainVersion := func(protected []report.Protected) string {
				cfg := train.DefaultConfig()
				cfg.Model.Family = model.FamilyScorecard
				cfg.Tracking.Experiment = "promote-test-runs"
				cfg.Tracking.Register = f.name
				cfg.Fairness.Protected = protected
				res, err := train.Run(ctx, cfg, train.Options{Tracking: f.c, OutDir: filepath.Join(t.TempDir(), "run")})
				if err != nil {
					t.Fatal(err)
				}
				return res.Registered.Version
			}
			measured := trainVersion([]report.Protected{{Column: "personal_status_and_sex"}, {Column: "age_in_years", Bands: []float64{25, 35, 50}}})
			blind := trainVersion(nil)

			p := loose()
			if d, err := Promote(ctx, f.c, dry(f.opts(measured, p))); err != nil || gateOf(d, GateAdverseImpact) != nil {
				t.Fatalf("gate off: %v, gates %+v", err, d.Gates)
			}
			p.MinAdverseImpactRatio = 0.8 // German's scorecard: age band < 25 at about 0.78
			d, err := Promote(ctx, f.c, dry(f.opts(measured, p)))
			var ge *GateError
			if !errors.As(err, &ge) || len(ge.Failed) != 1 || ge.Failed[0].Name != GateAdverseImpact {
				t.Fatalf("min 0.8: %v, want the %s gate to refuse", err, GateAdverseImpact)
			}
			g := gateOf(d, GateAdverseImpact)
			if g.Value >= 0.8 || g.Margin >= 0 || !strings.Contains(g.Detail, "approved at") || !strings.Contains(g.Detail, "four-fifths") {
				t.Errorf("gate %+v", g)
			}
			t.Logf("refused: %s %.4f %s %g: %s", g.Name, g.Value, g.Op, g.Threshold, g.Detail)
			p.MinAdverseImpactRatio = g.Value - 0.01
			if d, err := Promote(ctx, f.c, dry(f.opts(measured, p))); err != nil || gateOf(d, GateAdverseImpact).Status != Pass {
				t.Errorf("min %.4f: %v", p.MinAdverseImpactRatio, err)
			}
			_, err = Promote(ctx, f.c, dry(f.opts(blind, p)))
			if !errors.As(err, &ge) || ge.Failed[0].Name != GateAdverseImpact || !strings.Contains(ge.Failed[0].Detail, "--protected") {
				t.Errorf("unmeasured candidate: %v", err)
			}
		})
	}
}

func dry(o Options) Options { o.DryRun = true; return o }

func gateOf(d *Decision, name string) *Gate {
	if d == nil {
		return nil
	}
	for i := range d.Gates {
		if d.Gates[i].Name == name {
			return &d.Gates[i]
		}
	}
	return nil
}

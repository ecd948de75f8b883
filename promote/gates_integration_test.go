package promote

import (
	"context"
	"errors"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
)

// TestGates passes and fails each gate on its own against a champion
// (logistic regression) on MLflow 3.x, as dry runs: every case starts from
// the loose policy and tightens or loosens one key.
func TestGates(t *testing.T) {
	f := newFixture(t, testkit.TrackingURI(t))
	ctx := context.Background()
	champ := f.register(strong)
	cands := map[string]string{"mid": f.register(mid), "weak": f.register(weak), "narrow": f.register(narrow)}
	if _, err := Promote(ctx, f.c, f.opts(champ, DefaultPolicy())); err != nil {
		t.Fatal(err)
	}
	holdout := fullHoldout(t)

	cases := []struct {
		name   string
		cand   string
		policy func(*Policy)
		gate   string
		want   Status
	}{
		{"min_auc pass", "mid", func(p *Policy) { p.MinAUC = 0.6 }, GateMinAUC, Pass},
		{"min_auc fail", "mid", func(p *Policy) { p.MinAUC = 0.99 }, GateMinAUC, Fail},
		{"max_brier pass", "mid", func(p *Policy) { p.MaxBrier = 0.3 }, GateMaxBrier, Pass},
		{"max_brier fail", "mid", func(p *Policy) { p.MaxBrier = 0.01 }, GateMaxBrier, Fail},
		{"max_ece pass", "mid", func(p *Policy) { p.MaxECE = 0.5 }, GateMaxECE, Pass},
		{"max_ece fail", "mid", func(p *Policy) { p.MaxECE = 0.001 }, GateMaxECE, Fail},
		{"auc_margin pass", "weak", func(p *Policy) { p.AUCMargin = -0.2 }, GateAUCMargin, Pass},
		{"auc_margin fail", "weak", func(p *Policy) { p.AUCMargin = 0 }, GateAUCMargin, Fail},
		{"delong pass at a stricter p", "weak", func(p *Policy) { p.DeLongP = 0.001 }, GateDeLong, Pass},
		{"delong fail", "weak", func(p *Policy) { p.DeLongP = 0.05 }, GateDeLong, Fail},
		{"psi pass", "mid", func(p *Policy) { p.MaxPSI = 50 }, GatePSI, Pass},
		{"psi fail", "mid", func(p *Policy) { p.MaxPSI = 0.0001 }, GatePSI, Fail},
		{"psi reported only", "mid", func(p *Policy) { p.MaxPSI = 0.0001; p.GatePSI = false }, GatePSI, Info},
		{"schema pass", "mid", func(p *Policy) {}, GateSchema, Pass},
		{"schema fail", "narrow", func(p *Policy) {}, GateSchema, Fail},
		{"schema change allowed", "narrow", func(p *Policy) { p.AllowSchemaChange = true }, GateSchema, Pass},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := loose()
			tc.policy(&p)
			o := f.opts(cands[tc.cand], p)
			o.DryRun = true
			if tc.cand == "narrow" {
				// The narrow model's own holdout lacks the column the
				// champion needs.
				o.Data = holdout
			}
			before := snapshot(t, f)
			d, err := Promote(ctx, f.c, o)
			if d == nil {
				t.Fatalf("no decision: %v", err)
			}
			if after := snapshot(t, f); after != before {
				t.Errorf("dry run changed the registry")
			}
			var got *Gate
			for i, g := range d.Gates {
				if g.Name == tc.gate {
					got = &d.Gates[i]
				} else if g.Failed() {
					t.Errorf("gate %s failed too: %+v", g.Name, g)
				}
			}
			if got == nil {
				t.Fatalf("no gate %s in %+v", tc.gate, d.Gates)
			}
			if got.Status != tc.want {
				t.Errorf("gate %s: %s (%+v), want %s", tc.gate, got.Status, *got, tc.want)
			}
			if failed := tc.want == Fail; errors.Is(err, ErrGateFailed) != failed || (!failed && err != nil) {
				t.Errorf("err = %v, want gate failure %v", err, failed)
			}
			if d.Applied || d.RunID != "" {
				t.Errorf("dry run applied: %+v", d)
			}
			if got.Status != Skip && got.Status != Info && (got.Margin >= 0) != (got.Status == Pass) && tc.gate != GateSchema && tc.gate != GateDeLong {
				t.Errorf("gate %s margin %v disagrees with status %s", got.Name, got.Margin, got.Status)
			}
		})
	}
	if got := f.alias(DefaultAlias); got != champ {
		t.Errorf("champion moved to %q", got)
	}
}

package promote

import (
	"math"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/evaluate"
)

func TestThresholdGates(t *testing.T) {
	p := DefaultPolicy()
	r := &evaluate.Report{AUC: 0.7, Brier: 0.3, ECE: 0.05}
	gates := absoluteGates(p, r, "test")
	want := []struct {
		status Status
		margin float64
	}{{Pass, 0}, {Fail, -0.05}, {Pass, 0.05}} // AUC exactly at the threshold passes
	for i, g := range gates {
		if g.Status != want[i].status || math.Abs(g.Margin-want[i].margin) > 1e-12 {
			t.Errorf("%s: %s margin %v, want %s %v", g.Name, g.Status, g.Margin, want[i].status, want[i].margin)
		}
	}
	if g := atLeast("x", math.NaN(), 0.5, ""); g.Status != Fail {
		t.Errorf("NaN passed a minimum")
	}
	if g := atMost("x", math.NaN(), 0.5, ""); g.Status != Fail {
		t.Errorf("NaN passed a maximum")
	}
}

func TestChampionGates(t *testing.T) {
	tests := []struct {
		name       string
		p          func(*Policy)
		dl         evaluate.DeLongResult
		psi        float64
		margin     Status
		delong     Status
		psiStatus  Status
		detailPart string
	}{
		{"better", func(*Policy) {}, evaluate.DeLongResult{AUCA: 0.8, AUCB: 0.75, Diff: 0.05, Z: 2.5, P: 0.01}, 0.02, Pass, Pass, Info, "not worse"},
		{"slightly worse, not significant", func(*Policy) {}, evaluate.DeLongResult{AUCA: 0.74, AUCB: 0.75, Diff: -0.01, Z: -0.5, P: 0.6}, 0.02, Fail, Pass, Info, "not significantly"},
		{"tolerated by a negative margin", func(p *Policy) { p.AUCMargin = -0.02 }, evaluate.DeLongResult{AUCA: 0.74, AUCB: 0.75, Diff: -0.01, Z: -0.5, P: 0.6}, 0.02, Pass, Pass, Info, ""},
		{"significantly worse", func(*Policy) {}, evaluate.DeLongResult{AUCA: 0.6, AUCB: 0.75, Diff: -0.15, Z: -3, P: 0.003}, 0.02, Fail, Fail, Info, "significantly worse"},
		{"identical", func(*Policy) {}, evaluate.DeLongResult{AUCA: 0.75, AUCB: 0.75, Diff: 0, P: math.NaN()}, 0, Pass, Pass, Info, "identical"},
		{"psi gated", func(p *Policy) { p.GatePSI = true }, evaluate.DeLongResult{AUCA: 0.8, AUCB: 0.75, Diff: 0.05, Z: 2.5, P: 0.01}, 0.3, Pass, Pass, Fail, ""},
		{"psi gated, stable", func(p *Policy) { p.GatePSI = true }, evaluate.DeLongResult{AUCA: 0.8, AUCB: 0.75, Diff: 0.05, Z: 2.5, P: 0.01}, 0.05, Pass, Pass, Pass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPolicy()
			tt.p(&p)
			dl := tt.dl
			g := championGates(p, &Comparison{DeLong: &dl, PSI: tt.psi}, "1")
			if g[0].Status != tt.margin || g[1].Status != tt.delong || g[2].Status != tt.psiStatus {
				t.Errorf("statuses %s %s %s, want %s %s %s", g[0].Status, g[1].Status, g[2].Status, tt.margin, tt.delong, tt.psiStatus)
			}
			if !strings.Contains(g[1].Detail, tt.detailPart) {
				t.Errorf("delong detail %q lacks %q", g[1].Detail, tt.detailPart)
			}
			if math.IsNaN(g[1].Value) || math.IsNaN(g[1].Margin) {
				t.Errorf("NaN in a gate cannot be written as JSON: %+v", g[1])
			}
		})
	}
}

func TestSchemaDiff(t *testing.T) {
	num := func(n string) data.Feature { return data.Feature{Name: n, Type: data.Numeric, Required: true} }
	cat := func(n string, levels ...string) data.Feature {
		return data.Feature{Name: n, Type: data.Categorical, Levels: levels, Required: true}
	}
	base := &data.Schema{Features: []data.Feature{num("age"), cat("housing", "free", "own", "rent")}}
	tests := []struct {
		name string
		cand []data.Feature
		want []string
	}{
		{"same", []data.Feature{num("age"), cat("housing", "free", "own", "rent")}, nil},
		{"reordered", []data.Feature{cat("housing", "free", "own", "rent"), num("age")}, nil},
		{"missing", []data.Feature{cat("housing", "free", "own", "rent")}, []string{"age: required by the champion"}},
		{"optional now", []data.Feature{{Name: "age", Type: data.Numeric}, cat("housing", "free", "own", "rent")}, []string{"age: required by the champion"}},
		{"new", []data.Feature{num("age"), cat("housing", "free", "own", "rent"), num("income")}, []string{"income: newly required"}},
		{"type", []data.Feature{cat("age", "young", "old"), cat("housing", "free", "own", "rent")}, []string{"age: type categorical, was numeric"}},
		{"levels", []data.Feature{num("age"), cat("housing", "own", "rent")}, []string{"housing: levels [own rent], were [free own rent]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SchemaDiff(base, &data.Schema{Features: tt.cand})
			if len(got) != len(tt.want) {
				t.Fatalf("diff %q, want %q", got, tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("diff %d: %q, want prefix %q", i, got[i], tt.want[i])
				}
			}
			g := schemaGate(DefaultPolicy(), base, &data.Schema{Features: tt.cand})
			if (g.Status == Fail) != (len(tt.want) > 0) {
				t.Errorf("gate %+v", g)
			}
			p := DefaultPolicy()
			p.AllowSchemaChange = true
			if g := schemaGate(p, base, &data.Schema{Features: tt.cand}); g.Status != Pass {
				t.Errorf("allowed change failed: %+v", g)
			}
		})
	}
}

func TestOptionsCheck(t *testing.T) {
	ok := Options{Name: "m", Version: "3", Policy: DefaultPolicy()}
	tests := []struct {
		name    string
		edit    func(*Options)
		wantErr string
	}{
		{"ok", func(*Options) {}, ""},
		{"no name", func(o *Options) { o.Name = "" }, "name is empty"},
		{"no candidate", func(o *Options) { o.Version = "" }, "exactly one"},
		{"two candidates", func(o *Options) { o.Latest = true }, "exactly one"},
		{"bad version", func(o *Options) { o.Version = "0" }, "positive integer"},
		{"reserved alias", func(o *Options) { o.Alias = "latest" }, "alias"},
		{"version alias", func(o *Options) { o.Alias = "v3" }, "alias"},
		{"alias chars", func(o *Options) { o.Alias = "a b" }, "alias"},
		{"stage", func(o *Options) { o.Stage = "prod" }, "stage"},
		{"force without reason", func(o *Options) { o.Force = true; o.Reason = "  " }, "reason"},
		{"bad policy", func(o *Options) { o.Policy.MinAUC = 2 }, "min_auc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			err := CheckOptions(&o)
			if tt.wantErr == "" {
				if err != nil || o.Alias != DefaultAlias || o.Experiment != DefaultExperiment {
					t.Fatalf("err %v, options %+v", err, o)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	o := Options{Name: "m", Latest: true, Stage: "production", Policy: DefaultPolicy()}
	if err := CheckOptions(&o); err != nil || o.Stage != "Production" {
		t.Errorf("stage canonicalisation: %v %q", err, o.Stage)
	}
}

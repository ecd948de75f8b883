package promote

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/creditrisk/engine/internal/testkit"
)

// TestPythonReadsPromotion: the official client (mlflow 3.x, and 2.9.2
// against the 2.9.2 server) sees the alias, stage, tags, history and the
// promotion run with its metrics and charts.
func TestPythonReadsPromotion(t *testing.T) {
	for _, srv := range servers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			py := testkit.Python(t)
			if srv.Name == "2.9.2" {
				py = testkit.Python2(t)
			}
			f := newFixture(t, srv.URI)
			ctx := context.Background()
			v1, v2 := f.register(strong), f.register(mid)
			var d *Decision
			for _, v := range []string{v1, v2} {
				o := f.opts(v, loose())
				o.Stage = "Production"
				var err error
				if d, err = Promote(ctx, f.c, o); err != nil {
					t.Fatal(err)
				}
			}
			cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(cctx, py, "testdata/read_promotion.py", f.name, DefaultAlias)
			cmd.Env = append(os.Environ(), "MLFLOW_TRACKING_URI="+srv.URI)
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("python: %v", err)
			}
			var got struct {
				Version   string            `json:"version"`
				Stage     string            `json:"stage"`
				Tags      map[string]string `json:"tags"`
				ModelTags map[string]string `json:"model_tags"`
				Aliases   map[string]string `json:"aliases"`
				Run       struct {
					Status    string             `json:"status"`
					Params    map[string]string  `json:"params"`
					Metrics   map[string]float64 `json:"metrics"`
					Tags      map[string]string  `json:"tags"`
					Artifacts []string           `json:"artifacts"`
				} `json:"run"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("python output %s: %v", out, err)
			}
			if got.Version != v2 || got.Stage != "Production" || got.Aliases[DefaultAlias] != v2 {
				t.Errorf("python sees @%s = v%s (%s), aliases %v", DefaultAlias, got.Version, got.Stage, got.Aliases)
			}
			if got.Tags[TagPreviousChampion] != v1 || got.Tags[TagPromotedBy] != "promote-test" || got.Tags[TagGates] != gatesJSON(d.Gates) {
				t.Errorf("version tags %v", got.Tags)
			}
			if h := got.ModelTags[HistoryTag(DefaultAlias)]; h != v1+","+v2 {
				t.Errorf("history %q", h)
			}
			r := got.Run
			if r.Status != "FINISHED" || r.Params["champion_version"] != v1 || r.Tags["outcome"] != "promoted" {
				t.Errorf("promotion run %s params %v tags %v", r.Status, r.Params, r.Tags)
			}
			if r.Metrics["delong_p"] != d.Comparison.DeLong.P || r.Metrics["champion_holdout_auc"] != d.ChampionHoldout["auc"] {
				t.Errorf("run metrics %v", r.Metrics)
			}
			if !slices.Contains(r.Artifacts, ROCFile) || !slices.Contains(r.Artifacts, DecisionFile) {
				t.Errorf("run artifacts %v", r.Artifacts)
			}
		})
	}
}

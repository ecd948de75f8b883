package promote

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/tracking"
)

// TestPromoteFirstAndGateRefusal: a first promotion has no champion to
// beat; a weak challenger is then refused and nothing changes.
func TestPromoteFirstAndGateRefusal(t *testing.T) {
	for _, srv := range servers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, srv.URI)
			v1 := f.register(strong)
			v2 := f.register(weak)

			d, err := Promote(ctx, f.c, f.opts(v1, DefaultPolicy()))
			if err != nil {
				t.Fatalf("promote v%s: %v", v1, err)
			}
			if !d.Passed || !d.Applied || d.Champion != nil {
				t.Fatalf("decision %+v", d)
			}
			for _, g := range d.Gates[3:] {
				// The pyfunc gate is about the candidate alone: it applies
				// (allowed for the fixture's logistic model) with or
				// without a champion.
				if g.Name == GatePyfunc {
					continue
				}
				if g.Status != Skip {
					t.Errorf("gate %s without champion: %s, want skip", g.Name, g.Status)
				}
			}
			if got := f.alias(DefaultAlias); got != v1 {
				t.Fatalf("champion = %q, want %s", got, v1)
			}
			mv := f.version(v1)
			for k, want := range map[string]string{TagPromotedBy: "promote-test", TagPreviousChampion: "none", TagForced: "false", TagKind: "promote", TagPromotedAlias: DefaultAlias, TagRunID: d.RunID} {
				if got, _ := mv.Tag(k); got != want {
					t.Errorf("tag %s = %q, want %q", k, got, want)
				}
			}
			var gates []Gate
			raw, _ := mv.Tag(TagGates)
			if err := json.Unmarshal([]byte(raw), &gates); err != nil || len(gates) != len(d.Gates) {
				t.Errorf("gates tag %q: %v", raw, err)
			}
			run, err := f.c.GetRun(ctx, d.RunID)
			if err != nil {
				t.Fatal(err)
			}
			if run.Info.Status != mlflow.RunFinished {
				t.Errorf("promotion run %s", run.Info.Status)
			}
			if v, _ := run.Param("candidate_version"); v != v1 {
				t.Errorf("run param candidate_version = %q", v)
			}
			if files := listRun(t, f.c, d.RunID); !files[DecisionFile] {
				t.Errorf("promotion run artifacts %v lack %s", files, DecisionFile)
			}

			before := snapshot(t, f)
			d, err = Promote(ctx, f.c, f.opts(v2, DefaultPolicy()))
			var ge *GateError
			if !errors.As(err, &ge) || !errors.Is(err, ErrGateFailed) {
				t.Fatalf("weak candidate: err %v, want a GateError", err)
			}
			if d == nil || d.Applied || d.Champion == nil || d.Champion.Version != v1 {
				t.Fatalf("decision %+v", d)
			}
			var out strings.Builder
			_ = WriteDecision(&out, d)
			t.Logf("refused decision:\n%s", out.String())
			failed := map[string]bool{}
			for _, g := range ge.Failed {
				failed[g.Name] = true
			}
			if !failed[GateMinAUC] || !failed[GateDeLong] || !failed[GateAUCMargin] {
				t.Errorf("failed gates %v, want min_auc, auc_margin and delong among them", failed)
			}
			if after := snapshot(t, f); after != before {
				t.Errorf("refused promotion changed the registry:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func listRun(t *testing.T, b tracking.Backend, runID string) map[string]bool {
	t.Helper()
	// Listed by the server itself: what other clients will see.
	c, err := mlflow.NewClient(b.TrackingURI())
	if err != nil {
		t.Fatal(err)
	}
	files, err := c.ListArtifacts(context.Background(), runID, "")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, fi := range files {
		m[fi.Path] = true
	}
	return m
}

// snapshot is the registry state of the fixture's model that promotion may
// change: aliases, model tags, and every version's stage and tags.
func snapshot(t *testing.T, f *fixture) string {
	t.Helper()
	ctx := context.Background()
	rm, err := f.c.GetRegisteredModel(ctx, f.name)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	aj, _ := json.Marshal(rm.Aliases)
	tj, _ := json.Marshal(rm.Tags)
	b.WriteString(string(aj) + string(tj))
	vs, err := versions(ctx, f.c, f.name)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		mv := f.version(v.Version)
		j, _ := json.Marshal(struct {
			V, S string
			T    []mlflow.Tag
			U    int64
		}{mv.Version, mv.CurrentStage, mv.Tags, mv.LastUpdatedTimestamp})
		b.Write(j)
	}
	return b.String()
}

package promote

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/promote/promotetest"
)

// TestPyfuncGate: on a local store, a candidate whose family has no
// python_function flavor (logistic, forest) is refused with the pyfunc
// gate failed, the gate table saying why, and promoted with
// AllowNoPyfunc; a gbdt candidate passes without it.
func TestPyfuncGate(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		family string
		pyfunc bool
	}{
		{model.FamilyGBDT, true},
		{model.FamilyLogistic, false},
		{model.FamilyForest, false},
	} {
		t.Run(tt.family, func(t *testing.T) {
			fam, err := model.LookupFamily(tt.family)
			if err != nil {
				t.Fatal(err)
			}
			if (fam.Loader != "") != tt.pyfunc {
				t.Fatalf("families table: %s has a pyfunc loader: %v, the test expects %v", tt.family, fam.Loader != "", tt.pyfunc)
			}
			_, st, name := localStore(t)
			r := promotetest.Recipe{Family: tt.family}
			if tt.family == model.FamilyGBDT {
				r = mid
			}
			v := promotetest.Register(t, st, name, "runs", r)
			o := localOpts(t, name, v)
			o.AllowNoPyfunc = false
			d, err := Promote(ctx, st, o)
			if d == nil {
				t.Fatalf("no decision: %v", err)
			}
			g := gateNamed(t, d, GatePyfunc)
			if tt.pyfunc {
				if err != nil || g.Status != Pass || !d.Applied {
					t.Fatalf("gbdt candidate: %v; gate %+v, applied %v", err, g, d.Applied)
				}
				return
			}
			var ge *GateError
			if !errors.As(err, &ge) || len(ge.Failed) != 1 || ge.Failed[0].Name != GatePyfunc || d.Applied {
				t.Fatalf("%s candidate: %v (applied %v), want only the pyfunc gate failed", tt.family, err, d.Applied)
			}
			if g.Status != Fail || !strings.Contains(g.Detail, fam.Flavor) || !strings.Contains(g.Detail, "--allow-no-pyfunc") {
				t.Errorf("gate %+v: want a failure naming the flavor and the flag", g)
			}
			var table strings.Builder
			if err := WriteDecision(&table, d); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(table.String(), "no python_function") {
				t.Errorf("the gate table does not say why:\n%s", table.String())
			}
			o.AllowNoPyfunc = true
			d, err = Promote(ctx, st, o)
			if err != nil || !d.Applied {
				t.Fatalf("with AllowNoPyfunc: %v (applied %v)", err, d != nil && d.Applied)
			}
			if g := gateNamed(t, d, GatePyfunc); g.Status != Pass || !strings.HasPrefix(g.Detail, "allowed by --allow-no-pyfunc") {
				t.Errorf("allowed gate %+v", g)
			}
		})
	}
}

func gateNamed(t *testing.T, d *Decision, name string) Gate {
	t.Helper()
	for _, g := range d.Gates {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no gate %s in %+v", name, d.Gates)
	return Gate{}
}

package promote

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/model"
)

// Status is the outcome of one gate.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Skip: the gate does not apply (no champion to compare with).
	Skip Status = "skip"
	// Info: measured and reported, but the policy does not gate on it.
	Info Status = "info"
)

// Gate names, in the order they are checked.
const (
	GateMinAUC    = "min_auc"
	GateMaxBrier  = "max_brier"
	GateMaxECE    = "max_ece"
	GateAUCMargin = "auc_margin"
	GateDeLong    = "delong"
	GatePSI       = "psi"
	GateSchema    = "schema"
	GatePyfunc    = "pyfunc"
	// GateAdverseImpact is the optional fair-lending gate (policy key
	// min_adverse_impact_ratio); see fairness.go.
	GateAdverseImpact = "min_adverse_impact_ratio"
)

// Gate is one check of a promotion. Margin is how far Value is inside the
// threshold (positive) or outside it (negative), in Value's unit.
type Gate struct {
	Name      string  `json:"name"`
	Status    Status  `json:"status"`
	Op        string  `json:"op"` // how Value must compare with Threshold: >=, <=, ==
	Threshold float64 `json:"threshold"`
	Value     float64 `json:"value"`
	Margin    float64 `json:"margin"`
	Detail    string  `json:"detail,omitempty"`
}

// Failed reports whether the gate blocks the promotion.
func (g Gate) Failed() bool { return g.Status == Fail }

func atLeast(name string, value, threshold float64, detail string) Gate {
	g := Gate{Name: name, Op: ">=", Threshold: threshold, Value: value, Margin: value - threshold, Detail: detail, Status: Pass}
	if !(value >= threshold) {
		g.Status = Fail
	}
	return g
}

func atMost(name string, value, threshold float64, detail string) Gate {
	g := Gate{Name: name, Op: "<=", Threshold: threshold, Value: value, Margin: threshold - value, Detail: detail, Status: Pass}
	if !(value <= threshold) {
		g.Status = Fail
	}
	return g
}

// absoluteGates checks the candidate's recorded test metrics.
func absoluteGates(p Policy, r *evaluate.Report, source string) []Gate {
	return []Gate{
		atLeast(GateMinAUC, r.AUC, p.MinAUC, "candidate test AUC ("+source+")"),
		atMost(GateMaxBrier, r.Brier, p.MaxBrier, "candidate test Brier score ("+source+")"),
		atMost(GateMaxECE, r.ECE, p.MaxECE, "candidate test calibration error ("+source+")"),
	}
}

// Comparison is the champion/challenger measurement on one holdout.
type Comparison struct {
	DeLong *evaluate.DeLongResult `json:"delong"` // A is the candidate, B the champion
	PSI    float64                `json:"psi"`    // candidate scores against champion scores
}

// compare scores both models' holdout predictions: DeLong (candidate as A) and
// the PSI of the candidate's scores against the champion's.
func compare(labels, candidate, champion []float64) (*Comparison, error) {
	dl, err := evaluate.DeLong(labels, candidate, champion)
	if err != nil {
		return nil, fmt.Errorf("delong: %w", err)
	}
	psi, err := evaluate.PSI(champion, candidate)
	if err != nil {
		return nil, fmt.Errorf("psi: %w", err)
	}
	return &Comparison{DeLong: dl, PSI: psi.PSI}, nil
}

// championGates turns a comparison into the margin, DeLong and PSI gates.
func championGates(p Policy, c *Comparison, champion string) []Gate {
	dl := c.DeLong
	margin := atLeast(GateAUCMargin, dl.Diff, p.AUCMargin,
		fmt.Sprintf("holdout AUC %.4f (candidate) − %.4f (champion v%s)", dl.AUCA, dl.AUCB, champion))
	// The DeLong gate only fails a candidate that is worse: a significantly
	// better one is what promotion is for.
	delong := Gate{Name: GateDeLong, Op: ">=", Threshold: p.DeLongP, Value: dl.P, Margin: dl.P - p.DeLongP, Status: Pass}
	switch {
	case math.IsNaN(dl.P):
		delong.Value, delong.Margin = 1, 1-p.DeLongP
		delong.Detail = "identical rankings: no difference to test"
	case dl.Diff >= 0:
		delong.Detail = fmt.Sprintf("candidate not worse (z=%.3f)", dl.Z)
	case dl.P < p.DeLongP:
		delong.Status = Fail
		delong.Detail = fmt.Sprintf("candidate significantly worse (z=%.3f)", dl.Z)
	default:
		delong.Detail = fmt.Sprintf("candidate lower but not significantly (z=%.3f)", dl.Z)
	}
	psi := atMost(GatePSI, c.PSI, p.MaxPSI, "candidate scores against champion scores on the holdout")
	if !p.GatePSI {
		psi.Status = Info
		psi.Detail += " (reported, not gated)"
	}
	return []Gate{margin, delong, psi}
}

// skippedChampionGates stand for the comparison gates when there is no
// champion yet.
func skippedChampionGates(p Policy, why string) []Gate {
	return []Gate{
		{Name: GateAUCMargin, Status: Skip, Op: ">=", Threshold: p.AUCMargin, Detail: why},
		{Name: GateDeLong, Status: Skip, Op: ">=", Threshold: p.DeLongP, Detail: why},
		{Name: GatePSI, Status: Skip, Op: "<=", Threshold: p.MaxPSI, Detail: why},
		{Name: GateSchema, Status: Skip, Op: "==", Detail: why},
	}
}

// SchemaDiff lists how the candidate's required features differ from the
// champion's: missing or new required features, changed types and changed
// category levels. Empty means a request valid for the champion is valid for
// the candidate and the other way round.
func SchemaDiff(champion, candidate *data.Schema) []string {
	req := func(s *data.Schema) map[string]data.Feature {
		m := map[string]data.Feature{}
		for _, f := range s.Features {
			if f.Required {
				m[f.Name] = f
			}
		}
		return m
	}
	old, cur := req(champion), req(candidate)
	var diffs []string
	for _, name := range sortedKeys(old) {
		o := old[name]
		c, ok := cur[name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: required by the champion, not by the candidate", name))
		case o.Type != c.Type:
			diffs = append(diffs, fmt.Sprintf("%s: type %s, was %s", name, c.Type, o.Type))
		case !slices.Equal(o.Levels, c.Levels):
			diffs = append(diffs, fmt.Sprintf("%s: levels [%s], were [%s]", name, strings.Join(c.Levels, " "), strings.Join(o.Levels, " ")))
		}
	}
	for _, name := range sortedKeys(cur) {
		if _, ok := old[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: newly required by the candidate", name))
		}
	}
	return diffs
}

func schemaGate(p Policy, champion, candidate *data.Schema) Gate {
	diffs := SchemaDiff(champion, candidate)
	g := Gate{Name: GateSchema, Op: "==", Threshold: 0, Value: float64(len(diffs)), Status: Pass}
	if len(diffs) > 0 {
		g.Margin = -float64(len(diffs))
	}
	switch {
	case len(diffs) == 0:
		g.Detail = "same required features"
	case p.AllowSchemaChange:
		g.Detail = "allowed by policy: " + strings.Join(diffs, "; ")
	default:
		g.Status = Fail
		g.Detail = strings.Join(diffs, "; ")
	}
	return g
}

// pyfuncGate checks that the candidate has MLflow's python_function
// flavor (its MLmodel lists it; our families write it when they ship a
// loader, model.Family.Loader): without it mlflow.pyfunc.load_model cannot load the champion and
// `mlflow models serve` cannot serve it, so Python users of the alias are
// left without a model. allow (--allow-no-pyfunc) lets it through.
func pyfuncGate(allow bool, d *model.Dir) Gate {
	g := Gate{Name: GatePyfunc, Op: "==", Threshold: 1, Value: 1, Status: Pass}
	fam, _ := model.FamilyOfFlavor(d.Flavor)
	_, has := d.MLmodel.Flavors[model.FlavorPyfunc]
	if has {
		g.Detail = "flavor " + d.Flavor + " with python_function: mlflow.pyfunc loads it, mlflow models serve serves it"
		return g
	}
	g.Value, g.Margin = 0, -1
	why := fmt.Sprintf("flavor %s (family %s) has no python_function: mlflow.pyfunc.load_model cannot load it and mlflow models serve cannot serve it", d.Flavor, orUnknown(fam.Name))
	if allow {
		g.Detail = "allowed by --allow-no-pyfunc: " + why
		return g
	}
	g.Status = Fail
	g.Detail = why + "; pass --allow-no-pyfunc to promote it anyway"
	return g
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

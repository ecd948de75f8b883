// Package forest is the forest model family: a random-forest baseline of
// golearn's ID3 random trees (github.com/sjwhitworth/golearn/trees), each
// fitted on a bootstrap sample, saved with golearn's own serialisation
// (its gzip'd tar format). The probability of default is the share of
// trees voting for default.
//
// Every feature is a golearn float attribute: numeric features as they
// are, categorical features as their integer codes (so a split is a
// threshold on the code order, a simplification for a baseline). A
// missing numeric value is imputed with the training mean, a missing
// category with -1 (below every code). golearn's ID3 uses each feature at
// most once on a path, so trees stay shallow.
//
// Training is deterministic for a seed: bootstrap samples and the features
// tried at each node come from per-tree generators seeded from it, not
// from golearn's use of the global math/rand (its trees.RandomTree and
// meta.BaggedModel draw from it and cannot be seeded since Go 1.24).
package forest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/model/family"
)

// Flavor is the MLflow flavor and FileName the model file.
const (
	Flavor   = "creditrisk_forest"
	FileName = "model.golearn"
)

// Params are the training parameters.
type Params struct {
	Trees    int     // num_trees
	Features int     // max_features: features tried per node; 0 means √n
	MinSplit int     // min_samples_split: nodes with fewer rows are leaves
	Samples  float64 // max_samples: bootstrap sample size as a share of the rows
	Seed     uint64  // seed
	Threads  int     // num_threads; <= 0 means GOMAXPROCS
}

// Keys lists the parameter keys Set accepts.
var Keys = []string{"num_trees", "max_features", "min_samples_split", "max_samples", "seed", "num_threads"}

// DefaultParams returns 100 trees, √n features per node, min split 10,
// bootstrap samples as large as the data, seed 1.
func DefaultParams() Params { return Params{Trees: 100, MinSplit: 10, Samples: 1, Seed: 1} }

// Set sets one parameter; the error names the key.
func (p *Params) Set(key, value string) error {
	var err error
	switch key {
	case "num_trees":
		p.Trees, err = family.Int(value, 1, maxTrees)
	case "max_features":
		p.Features, err = family.Int(value, 0, 1<<20)
	case "min_samples_split":
		p.MinSplit, err = family.Int(value, 2, math.MaxInt32)
	case "max_samples":
		p.Samples, err = family.Float(value, math.SmallestNonzeroFloat64, 1)
	case "seed":
		var n int
		n, err = family.Int(value, 0, math.MaxInt)
		p.Seed = uint64(n)
	case "num_threads":
		p.Threads, err = family.Int(value, 0, 1024)
	default:
		err = fmt.Errorf("unknown parameter %q: %w", key, family.ErrParam)
	}
	return err
}

// effective returns the parameters with max_features resolved for n features.
func (p Params) effective(n int) Params {
	if p.Samples <= 0 || p.Samples > 1 {
		p.Samples = 1
	}
	p.MinSplit = max(p.MinSplit, 2)
	if p.Features <= 0 {
		p.Features = max(1, int(math.Sqrt(float64(n))))
	}
	p.Features = min(p.Features, n)
	if p.Threads <= 0 {
		p.Threads = runtime.GOMAXPROCS(0)
	}
	return p
}

// Map returns the parameters for logging (num_threads is left out: it does
// not change the model).
func (p Params) Map() map[string]string {
	return map[string]string{
		"num_trees":         strconv.Itoa(p.Trees),
		"max_features":      strconv.Itoa(p.Features),
		"min_samples_split": strconv.Itoa(p.MinSplit),
		"max_samples":       family.FormatFloat(p.Samples),
		"seed":              strconv.FormatUint(p.Seed, 10),
		"tree":              "golearn ID3 random tree",
		"probability":       "share of tree votes",
	}
}

// Model is a trained or loaded forest with its schema.
type Model struct {
	schema *data.Schema
	meta   meta
	roots  []*trees.DecisionTreeNode // golearn's trees, for saving
	flat   []flatTree                // the same trees compiled for prediction
}

// meta is what the forest needs besides golearn's trees; it is stored in
// the golearn archive as JSON.
type meta struct {
	FormatVersion int               `json:"format_version"`
	Features      []string          `json:"features"`
	Impute        []float64         `json:"impute"` // per feature, the value used for missing
	Params        map[string]string `json:"params"`
}

const formatVersion = 1

// positive is the class value of default in the golearn trees.
const positive = "1"

// Train fits a forest to a training table with key=value parameters.
func Train(ctx context.Context, train *data.Table, params map[string]string) (*Model, error) {
	p := DefaultParams()
	if err := family.Params(params, Keys, p.Set); err != nil {
		return nil, fmt.Errorf("train forest: %w", err)
	}
	if train == nil || train.Rows() == 0 {
		return nil, fmt.Errorf("train forest: no training rows")
	}
	return Fit(ctx, train.Matrix(nil), train.Label, train.Schema(), p)
}

// Fit fits a forest to encoded rows (as Predict takes them) and 0/1 labels.
func Fit(ctx context.Context, rows [][]float64, labels []float64, s *data.Schema, p Params) (*Model, error) {
	n := len(s.Features)
	if err := family.Rows(rows, n); err != nil {
		return nil, fmt.Errorf("train forest: %w", err)
	}
	if len(rows) != len(labels) || len(rows) == 0 {
		return nil, fmt.Errorf("train forest: %d rows, %d labels", len(rows), len(labels))
	}
	if p.Trees < 1 {
		return nil, fmt.Errorf("train forest: num_trees %d: %w", p.Trees, family.ErrParam)
	}
	p = p.effective(n)
	m := &Model{schema: s, meta: meta{FormatVersion: formatVersion, Features: s.Names(), Impute: make([]float64, n), Params: p.Map()}}
	for j, f := range s.Features {
		m.meta.Impute[j] = -1
		if f.Type == data.Numeric {
			var sum, cnt float64
			for _, r := range rows {
				if !math.IsNaN(r[j]) {
					sum, cnt = sum+r[j], cnt+1
				}
			}
			m.meta.Impute[j] = 0
			if cnt > 0 {
				m.meta.Impute[j] = sum / cnt
			}
		}
	}
	inst, err := m.instances(rows, labels)
	if err != nil {
		return nil, fmt.Errorf("train forest: %w", err)
	}
	m.roots = make([]*trees.DecisionTreeNode, p.Trees)
	errs := make([]error, p.Trees)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(p.Threads, p.Trees) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range next {
				m.roots[t], errs[t] = fitTree(inst, len(rows), p, t)
			}
		}()
	}
	for t := 0; t < p.Trees && ctx.Err() == nil; t++ {
		next <- t
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("train forest: %w", err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("train forest: %w", err)
	}
	if m.flat, err = compile(m.roots, m.meta.Features); err != nil {
		return nil, fmt.Errorf("train forest: %w", err)
	}
	return m, nil
}

// instances builds golearn's dense instances from imputed rows.
func (m *Model) instances(rows [][]float64, labels []float64) (*base.DenseInstances, error) {
	inst := base.NewDenseInstances()
	specs := make([]base.AttributeSpec, len(m.meta.Features))
	for j, name := range m.meta.Features {
		specs[j] = inst.AddAttribute(base.NewFloatAttribute(name))
	}
	class := base.NewCategoricalAttribute()
	class.SetName("creditrisk_default")
	cspec := inst.AddAttribute(class)
	if err := inst.AddClassAttribute(class); err != nil {
		return nil, err
	}
	if err := inst.Extend(len(rows)); err != nil {
		return nil, err
	}
	no, yes := class.GetSysValFromString("0"), class.GetSysValFromString(positive)
	for i, r := range rows {
		for j, v := range r {
			if math.IsNaN(v) {
				v = m.meta.Impute[j]
			}
			inst.Set(specs[j], i, base.PackFloatToBytes(v))
		}
		switch labels[i] {
		case 0:
			inst.Set(cspec, i, no)
		case 1:
			inst.Set(cspec, i, yes)
		default:
			return nil, fmt.Errorf("label %d is %v, want 0 or 1", i, labels[i])
		}
	}
	return inst, nil
}

// fitTree grows tree t on its bootstrap sample with golearn's ID3.
func fitTree(inst *base.DenseInstances, n int, p Params, t int) (root *trees.DecisionTreeNode, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("tree %d: golearn panicked: %v", t, r)
		}
	}()
	seed := rand.NewPCG(p.Seed, uint64(t)).Uint64()
	rng := rand.New(rand.NewPCG(seed, 0))
	size := max(1, int(math.Round(p.Samples*float64(n))))
	sample := make(map[int]int, size)
	for i := range size {
		sample[i] = rng.IntN(n)
	}
	view := base.NewInstancesViewFromRows(inst, sample)
	root = trees.InferID3Tree(view, &rule{seed: seed, features: p.Features, minSplit: p.MinSplit})
	settleTies(root)
	return root, nil
}

// settleTies sets each node's class to the majority of its class counts,
// a tie going to default (the cautious answer): golearn breaks ties in map
// order, which would make the forest differ from run to run.
func settleTies(n *trees.DecisionTreeNode) {
	if n == nil {
		return
	}
	if no, yes := n.ClassDist["0"], n.ClassDist[positive]; no+yes > 0 {
		n.Class = "0"
		if yes >= no {
			n.Class = positive
		}
	}
	for _, c := range n.Children {
		settleTies(c)
	}
}

// rule is a golearn RuleGenerator in the spirit of
// trees.RandomTreeRuleGenerator: the split with the highest information
// gain among randomly chosen features. It differs in what makes the
// result reproducible: a seeded draw per node (golearn grows children in
// map order, so a generator shared by the nodes would depend on that
// order), features in name order, and its own gain computation over rows
// sorted by (value, class), since golearn's visits rows in map order and
// its floating-point sums then break ties between features at random.
// Nodes with fewer than minSplit rows, or where no chosen feature takes
// two values, become leaves.
type rule struct {
	seed     uint64
	features int
	minSplit int
}

// nodeRand returns the generator of the node holding f's rows.
func (r *rule) nodeRand(f base.FixedDataGrid, attrs []base.Attribute) *rand.Rand {
	h := fnv.New64a()
	_, rows := f.Size()
	fmt.Fprintf(h, "%d", rows)
	for _, a := range attrs {
		h.Write([]byte(a.GetName()))
		h.Write([]byte{0})
	}
	// A sum of the first attribute's value bits tells apart nodes with the
	// same row count and features; integer addition does not depend on
	// the row order.
	if spec, err := f.GetAttribute(attrs[0]); err == nil {
		var sum uint64
		f.MapOverRows([]base.AttributeSpec{spec}, func(v [][]byte, _ int) (bool, error) {
			sum += math.Float64bits(base.UnpackBytesToFloat(v[0]))
			return true, nil
		})
		fmt.Fprintf(h, "%x", sum)
	}
	return rand.New(rand.NewPCG(r.seed, h.Sum64()))
}

// GenerateSplitRule returns the best split among randomly chosen
// features, or nil to make the node a leaf.
func (r *rule) GenerateSplitRule(f base.FixedDataGrid) *trees.DecisionTreeRule {
	if _, rows := f.Size(); rows < r.minSplit {
		return nil
	}
	attrs := base.NonClassAttributes(f)
	if len(attrs) == 0 {
		return nil
	}
	slices.SortFunc(attrs, func(a, b base.Attribute) int { return strings.Compare(a.GetName(), b.GetName()) })
	perm := r.nodeRand(f, attrs).Perm(len(attrs))
	chosen := make([]base.Attribute, min(r.features, len(attrs)))
	for i := range chosen {
		chosen[i] = attrs[perm[i]]
	}
	// One pass over the node's rows for every chosen feature and the
	// class: each read goes through golearn's nested row views.
	specs := make([]base.AttributeSpec, 0, len(chosen)+1)
	for _, a := range chosen {
		spec, err := f.GetAttribute(a)
		if err != nil {
			return nil
		}
		specs = append(specs, spec)
	}
	classAttr := f.AllClassAttributes()[0]
	cspec, err := f.GetAttribute(classAttr)
	if err != nil {
		return nil
	}
	specs = append(specs, cspec)
	_, rows := f.Size()
	cols := make([][]valueClass, len(chosen))
	for i := range cols {
		cols[i] = make([]valueClass, 0, rows)
	}
	posVal := classAttr.GetSysValFromString(positive)
	f.MapOverRows(specs, func(v [][]byte, _ int) (bool, error) {
		pos := bytes.Equal(v[len(chosen)], posVal)
		for i := range chosen {
			cols[i] = append(cols[i], valueClass{base.UnpackBytesToFloat(v[i]), pos})
		}
		return true, nil
	})
	var best *trees.DecisionTreeRule
	bestEntropy := math.Inf(1)
	for i, a := range chosen {
		e, split, ok := splitEntropy(cols[i])
		if ok && e < bestEntropy {
			best, bestEntropy = &trees.DecisionTreeRule{SplitAttr: a, SplitVal: split}, e
		}
	}
	return best
}

type valueClass struct {
	v   float64
	pos bool
}

// splitEntropy returns the lowest weighted entropy of a threshold split of
// the rows vc (midpoints between consecutive distinct values, as golearn's
// ID3), and the threshold; ok is false when there is a single value.
func splitEntropy(vc []valueClass) (entropy, split float64, ok bool) {
	slices.SortFunc(vc, func(x, y valueClass) int {
		if c := cmpFloat(x.v, y.v); c != 0 {
			return c
		}
		switch {
		case x.pos == y.pos:
			return 0
		case y.pos:
			return -1
		}
		return 1
	})
	var totPos int
	for _, x := range vc {
		if x.pos {
			totPos++
		}
	}
	n := len(vc)
	entropy = math.Inf(1)
	leftPos := 0
	for i := 0; i < n-1; i++ {
		if vc[i].pos {
			leftPos++
		}
		if vc[i].v == vc[i+1].v {
			continue
		}
		l, r := i+1, n-i-1
		e := (float64(l)*binEntropy(leftPos, l) + float64(r)*binEntropy(totPos-leftPos, r)) / float64(n)
		if e < entropy {
			entropy, split, ok = e, (vc[i].v+vc[i+1].v)/2, true
		}
	}
	return entropy, split, ok
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// binEntropy is the entropy in bits of pos positives among n.
func binEntropy(pos, n int) float64 {
	if pos == 0 || pos == n {
		return 0
	}
	p := float64(pos) / float64(n)
	return -p*math.Log2(p) - (1-p)*math.Log2(1-p)
}

// Flavor returns "creditrisk_forest".
func (m *Model) Flavor() string { return Flavor }

// Schema returns the model's input schema.
func (m *Model) Schema() *data.Schema { return m.schema }

// Params returns the effective training parameters.
func (m *Model) Params() map[string]string {
	out := make(map[string]string, len(m.meta.Params))
	for k, v := range m.meta.Params {
		out[k] = v
	}
	return out
}

// Importance returns the number of splits on each feature over all trees.
func (m *Model) Importance() ([]float64, string) {
	out := make([]float64, len(m.meta.Features))
	for _, t := range m.flat {
		for _, n := range t {
			if n.feature >= 0 {
				out[n.feature]++
			}
		}
	}
	return out, "number of splits"
}

// Predict returns the share of trees voting default for each row.
func (m *Model) Predict(rows [][]float64) ([]float64, error) {
	if err := family.Rows(rows, len(m.meta.Features)); err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	out := make([]float64, len(rows))
	x := make([]float64, len(m.meta.Features))
	for i, r := range rows {
		for j, v := range r {
			if math.IsNaN(v) {
				v = m.meta.Impute[j]
			}
			x[j] = v
		}
		votes := 0
		for t := range m.flat {
			if m.flat[t].vote(x) {
				votes++
			}
		}
		out[i] = float64(votes) / float64(len(m.flat))
	}
	return out, nil
}

// Explain is not available for the forest: vote shares have no additive
// log-odds decomposition that would be honest to report.
func (m *Model) Explain(row []float64) ([]float64, float64, error) {
	return nil, 0, fmt.Errorf("explain: the %s family (golearn random forest) has no per-feature contributions: %w", "forest", family.ErrNoExplain)
}

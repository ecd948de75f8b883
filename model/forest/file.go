package forest

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"

	"github.com/creditrisk/engine/data"
)

// Keys inside the golearn archive.
const (
	metaKey  = "creditrisk/meta"
	countKey = "creditrisk/num_trees"
	// maxTrees bounds num_trees: golearn's reader decompresses the archive
	// from the start for every key, so loading is quadratic in the number
	// of trees (100 German-credit trees: about 1.4 s).
	maxTrees = 1000
)

func treePrefix(i int) string { return fmt.Sprintf("trees/%d/", i) }

// Save writes model.golearn into dir with golearn's serialiser: the
// forest's metadata as JSON, the number of trees, and each tree as a
// golearn RandomTree.
func (m *Model) Save(dir string) error {
	path := filepath.Join(dir, FileName)
	// golearn creates its file 0600 whatever the umask; the model file
	// must be as readable as the directory's others (a server reading an
	// upload may run as another user), so it is written beside and copied
	// into a file made with the umask's permissions.
	stub := path + ".golearn-tmp"
	defer os.Remove(stub)
	w, err := base.CreateSerializedClassifierStub(stub, base.ClassifierMetadataV1{
		FormatVersion: 1, ClassifierName: Flavor, ClassifierVersion: "1"})
	if err != nil {
		return fmt.Errorf("write %s: %w", FileName, err)
	}
	err = m.write(w)
	if cerr := w.Close(); err == nil && cerr != nil {
		err = cerr
	}
	var b []byte
	if err == nil {
		b, err = os.ReadFile(stub)
	}
	if err == nil {
		err = os.WriteFile(path, b, 0o666)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", FileName, err)
	}
	return nil
}

func (m *Model) write(w *base.ClassifierSerializer) error {
	if err := w.WriteJSONForKey(metaKey, m.meta); err != nil {
		return err
	}
	if err := w.WriteU64ForKey(countKey, uint64(len(m.roots))); err != nil {
		return err
	}
	for i, root := range m.roots {
		rt := &trees.RandomTree{Root: root}
		if err := rt.SaveWithPrefix(w, treePrefix(i)); err != nil {
			return fmt.Errorf("tree %d: %w", i, err)
		}
	}
	return nil
}

// Load reads a model.golearn whose features s describes.
func Load(path string, s *data.Schema) (m *Model, err error) {
	defer func() {
		// golearn's readers panic on some malformed input (type
		// assertions in DecisionTreeRule.UnmarshalJSON); the file comes
		// from outside.
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("forest: %s: malformed golearn model: %v", path, r)
		}
	}()
	r, err := base.ReadSerializedClassifierStub(path)
	if err != nil {
		return nil, fmt.Errorf("forest: %s: %w", path, err)
	}
	defer r.Close()
	m = &Model{schema: s}
	if err := r.GetJSONForKey(metaKey, &m.meta); err != nil {
		return nil, fmt.Errorf("forest: %s: %s: %w", path, metaKey, err)
	}
	if err := m.meta.check(s); err != nil {
		return nil, fmt.Errorf("forest: %s: %w", path, err)
	}
	n, err := r.GetU64ForKey(countKey)
	if err != nil {
		return nil, fmt.Errorf("forest: %s: %s: %w", path, countKey, err)
	}
	if n == 0 || n > maxTrees {
		return nil, fmt.Errorf("forest: %s: %d trees, want 1 to %d", path, n, maxTrees)
	}
	for i := range int(n) {
		rt := &trees.RandomTree{}
		if err := rt.LoadWithPrefix(r, treePrefix(i)); err != nil {
			return nil, fmt.Errorf("forest: %s: tree %d: %w", path, i, err)
		}
		m.roots = append(m.roots, rt.Root)
	}
	if m.flat, err = compile(m.roots, m.meta.Features); err != nil {
		return nil, fmt.Errorf("forest: %s: %w", path, err)
	}
	return m, nil
}

func (mt *meta) check(s *data.Schema) error {
	if mt.FormatVersion != formatVersion {
		return fmt.Errorf("format_version %d, want %d", mt.FormatVersion, formatVersion)
	}
	if !slices.Equal(mt.Features, s.Names()) {
		return fmt.Errorf("the forest's features %q differ from the schema's %q", mt.Features, s.Names())
	}
	if len(mt.Impute) != len(mt.Features) {
		return fmt.Errorf("%d impute values for %d features", len(mt.Impute), len(mt.Features))
	}
	for j, v := range mt.Impute {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("feature %q: impute value %v", mt.Features[j], v)
		}
	}
	return nil
}

// flatTree is a golearn tree compiled to arrays for fast, allocation-free
// prediction. Node 0 is the root.
type flatTree []flatNode

type flatNode struct {
	feature  int // -1 for a leaf
	split    float64
	lo, hi   int  // children: value <= split goes to lo, as golearn's "0"
	positive bool // leaf: votes default
}

// vote walks x down the tree.
func (t flatTree) vote(x []float64) bool {
	i := 0
	for {
		n := &t[i]
		if n.feature < 0 {
			return n.positive
		}
		if x[n.feature] > n.split {
			i = n.hi
		} else {
			i = n.lo
		}
	}
}

// compile turns golearn trees into flat trees, checking that every split
// is a float attribute among the features.
func compile(roots []*trees.DecisionTreeNode, features []string) ([]flatTree, error) {
	idx := make(map[string]int, len(features))
	for j, f := range features {
		idx[f] = j
	}
	out := make([]flatTree, len(roots))
	for i, root := range roots {
		if root == nil {
			return nil, fmt.Errorf("tree %d is empty", i)
		}
		var t flatTree
		if _, err := t.add(root, idx, 0); err != nil {
			return nil, fmt.Errorf("tree %d: %w", i, err)
		}
		out[i] = t
	}
	return out, nil
}

// maxDepth bounds recursion on a loaded file; golearn's ID3 uses each
// feature once per path, so real trees are no deeper than the features.
const maxDepth = 4096

func (t *flatTree) add(n *trees.DecisionTreeNode, idx map[string]int, depth int) (int, error) {
	if depth > maxDepth {
		return 0, fmt.Errorf("deeper than %d", maxDepth)
	}
	at := len(*t)
	*t = append(*t, flatNode{feature: -1, positive: n.Class == positive})
	if len(n.Children) == 0 {
		return at, nil
	}
	if n.SplitRule == nil || n.SplitRule.SplitAttr == nil {
		return 0, fmt.Errorf("a node with children has no split rule")
	}
	if _, ok := n.SplitRule.SplitAttr.(*base.FloatAttribute); !ok {
		return 0, fmt.Errorf("split on %q is not a float attribute", n.SplitRule.SplitAttr.GetName())
	}
	f, ok := idx[n.SplitRule.SplitAttr.GetName()]
	if !ok {
		return 0, fmt.Errorf("split on unknown feature %q", n.SplitRule.SplitAttr.GetName())
	}
	if math.IsNaN(n.SplitRule.SplitVal) {
		return 0, fmt.Errorf("split on %q at NaN", n.SplitRule.SplitAttr.GetName())
	}
	for k := range n.Children {
		if k != "0" && k != "1" {
			return 0, fmt.Errorf("child %q of a numeric split", k)
		}
	}
	node := flatNode{feature: f, split: n.SplitRule.SplitVal, positive: n.Class == positive}
	// A side without a child (only in files not written by Train, which
	// refuses such splits) predicts the node's majority class.
	for side, key := range []string{"0", "1"} {
		c, ok := n.Children[key]
		var ci int
		if !ok || c == nil {
			ci = len(*t)
			*t = append(*t, flatNode{feature: -1, positive: node.positive})
		} else {
			var err error
			if ci, err = t.add(c, idx, depth+1); err != nil {
				return 0, err
			}
		}
		if side == 0 {
			node.lo = ci
		} else {
			node.hi = ci
		}
	}
	(*t)[at] = node
	return at, nil
}

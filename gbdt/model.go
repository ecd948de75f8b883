// Package gbdt trains gradient-boosted decision trees for binary
// classification and reads and writes them in LightGBM's text model format,
// so that the models it trains are read by github.com/dmitryikh/leaves and
// loaded by LightGBM itself. Model.Predict is the reference predictor,
// following LightGBM's decision rules; Flat, a model flattened for
// scoring, answers as it does bit for bit, faster.
//
// Training's output does not depend on the number of goroutines. The
// histogram loops in assembly on amd64 make the same IEEE additions in the
// same order as their Go versions (the Generic functions, used on other
// architectures and with -tags purego), and the tests hold them to the
// same bits.
package gbdt

// Decision type bits, as LightGBM stores them in a tree's decision_type.
const (
	catMask     = 1 // the split is categorical
	defaultLeft = 2 // missing values go left
	// Bits 2-3 hold the missing type: 0 none, 1 zero, 2 NaN.
	missingTypeShift = 2
)

// Missing types, as LightGBM encodes them in bits 2-3 of decision_type.
const (
	MissingNone = 0
	MissingZero = 1
	MissingNaN  = 2
)

// Tree is one regression tree in LightGBM's array layout. Internal nodes are
// numbered 0..NumLeaves-2; a child index c < 0 refers to leaf ^c (that is,
// -c-1), as in LightGBM's files. Keeping the file's layout as the in-memory
// layout makes reading, writing and predicting share one representation.
type Tree struct {
	NumLeaves int
	NumCat    int // number of categorical splits

	// Internal nodes, NumLeaves-1 entries each.
	SplitFeature   []int     // feature index (real index into the model's features)
	SplitGain      []float64 // gain of the split
	Threshold      []float64 // numeric threshold, or for categorical splits the index into CatBoundaries
	DecisionType   []int8    // bit field: categorical, default-left, missing type
	LeftChild      []int     // child index; negative means leaf ^child
	RightChild     []int
	InternalValue  []float64 // output the node would have as a leaf
	InternalWeight []float64 // sum of hessians
	InternalCount  []int     // number of training rows

	// Leaves, NumLeaves entries each.
	LeafValue  []float64
	LeafWeight []float64
	LeafCount  []int

	// Categorical splits: split k uses the bitset words
	// CatThreshold[CatBoundaries[k]:CatBoundaries[k+1]]; category c goes left
	// when bit c is set.
	CatBoundaries []int
	CatThreshold  []uint32

	Shrinkage float64
}

// Model is a boosted ensemble for binary classification with log loss: the
// probability of the positive class is sigmoid(sum of the trees' outputs).
type Model struct {
	FeatureNames []string
	// FeatureInfos is LightGBM's per-feature description: "[min:max]" for a
	// numeric feature, "a:b:c" (the category values) for a categorical one,
	// "none" for a feature never used.
	FeatureInfos []string
	Trees        []Tree
	// Params are the training parameters, written in the file's parameters
	// section as "[key: value]" lines, in this order.
	Params []Param
	// Importance is the number of splits per feature, indexed like FeatureNames.
	SplitImportance []int
	// GainImportance is the total gain of splits per feature.
	GainImportance []float64

	// trainScore are the raw scores of the training rows under the first
	// trainTrees trees, as boosting summed them; nil for a model that was
	// read, not trained.
	trainScore []float64
	trainTrees int
}

// Param is one training parameter as LightGBM writes it.
type Param struct {
	Key, Value string
}

package gbdt

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
)

// ErrParam is wrapped by every error about a training parameter.
var ErrParam = errors.New("invalid parameter")

// Params are the training parameters. Names, meanings and defaults follow
// LightGBM's (docs/Parameters.rst); DefaultParams returns LightGBM's defaults.
type Params struct {
	NumIterations       int     // num_iterations
	LearningRate        float64 // learning_rate
	NumLeaves           int     // num_leaves
	MaxDepth            int     // max_depth; <= 0 means no limit
	MinDataInLeaf       int     // min_data_in_leaf
	MinSumHessianInLeaf float64 // min_sum_hessian_in_leaf
	LambdaL1            float64 // lambda_l1
	LambdaL2            float64 // lambda_l2
	MinGainToSplit      float64 // min_gain_to_split
	FeatureFraction     float64 // feature_fraction, per tree
	BaggingFraction     float64 // bagging_fraction
	BaggingFreq         int     // bagging_freq; 0 disables bagging
	MaxBin              int     // max_bin
	MinDataInBin        int     // min_data_in_bin
	BinSampleCount      int     // bin_construct_sample_cnt
	EarlyStoppingRound  int     // early_stopping_round; 0 disables it
	// Seed, when SeedSet, derives the bagging, feature-fraction and
	// bin-sampling seeds as LightGBM's seed does; otherwise LightGBM's
	// per-purpose default seeds are used. Either way the same data and
	// parameters give the same model.
	Seed    int64 // seed
	SeedSet bool

	MaxCatToOnehot      int     // max_cat_to_onehot
	MaxCatThreshold     int     // max_cat_threshold
	CatSmooth           float64 // cat_smooth
	CatL2               float64 // cat_l2
	MinDataPerGroup     int     // min_data_per_group
	MonotoneConstraints []int8  // monotone_constraints, one per feature or empty
	// NumThreads bounds the goroutines used; <= 0 means GOMAXPROCS.
	NumThreads int // num_threads
}

// DefaultParams returns LightGBM's defaults for binary classification.
func DefaultParams() Params {
	return Params{
		NumIterations:       100,
		LearningRate:        0.1,
		NumLeaves:           31,
		MaxDepth:            -1,
		MinDataInLeaf:       20,
		MinSumHessianInLeaf: 1e-3,
		FeatureFraction:     1,
		BaggingFraction:     1,
		MaxBin:              255,
		MinDataInBin:        3,
		BinSampleCount:      200000,
		MaxCatToOnehot:      4,
		MaxCatThreshold:     32,
		CatSmooth:           10,
		CatL2:               10,
		MinDataPerGroup:     100,
	}
}

// aliases maps LightGBM's parameter aliases to canonical names.
var aliases = map[string]string{
	"num_iteration": "num_iterations", "n_iter": "num_iterations", "num_tree": "num_iterations",
	"num_trees": "num_iterations", "num_round": "num_iterations", "num_rounds": "num_iterations",
	"nrounds": "num_iterations", "num_boost_round": "num_iterations", "n_estimators": "num_iterations",
	"max_iter":       "num_iterations",
	"shrinkage_rate": "learning_rate", "eta": "learning_rate",
	"num_leaf": "num_leaves", "max_leaves": "num_leaves", "max_leaf": "num_leaves", "max_leaf_nodes": "num_leaves",
	"min_data_per_leaf": "min_data_in_leaf", "min_data": "min_data_in_leaf",
	"min_child_samples": "min_data_in_leaf", "min_samples_leaf": "min_data_in_leaf",
	"min_sum_hessian_per_leaf": "min_sum_hessian_in_leaf", "min_sum_hessian": "min_sum_hessian_in_leaf",
	"min_hessian": "min_sum_hessian_in_leaf", "min_child_weight": "min_sum_hessian_in_leaf",
	"reg_alpha": "lambda_l1", "l1_regularization": "lambda_l1",
	"reg_lambda": "lambda_l2", "lambda": "lambda_l2", "l2_regularization": "lambda_l2",
	"min_split_gain": "min_gain_to_split",
	"sub_feature":    "feature_fraction", "colsample_bytree": "feature_fraction",
	"sub_row": "bagging_fraction", "subsample": "bagging_fraction", "bagging": "bagging_fraction",
	"subsample_freq":        "bagging_freq",
	"max_bins":              "max_bin",
	"subsample_for_bin":     "bin_construct_sample_cnt",
	"early_stopping_rounds": "early_stopping_round", "early_stopping": "early_stopping_round",
	"n_iter_no_change": "early_stopping_round",
	"random_seed":      "seed", "random_state": "seed",
	"mc": "monotone_constraints", "monotone_constraint": "monotone_constraints",
	"monotonic_cst": "monotone_constraints",
	"num_thread":    "num_threads", "nthread": "num_threads", "nthreads": "num_threads", "n_jobs": "num_threads",
	"objective_type": "objective", "app": "objective", "application": "objective", "loss": "objective",
	"boosting_type": "boosting", "boost": "boosting",
}

// Set sets one parameter from a LightGBM-style key and value, accepting
// LightGBM's aliases (num_boost_round, n_estimators, ...). The error names
// the key.
func (p *Params) Set(key, value string) error {
	name := strings.TrimSpace(key)
	if c, ok := aliases[name]; ok {
		name = c
	}
	value = strings.TrimSpace(value)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %s=%q: %s", ErrParam, key, value, fmt.Sprintf(format, args...))
	}
	atoi := func(dst *int) error {
		n, err := strconv.Atoi(value)
		if err != nil {
			return bad("not an integer")
		}
		*dst = n
		return nil
	}
	atof := func(dst *float64) error {
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(f) {
			return bad("not a number")
		}
		*dst = f
		return nil
	}
	switch name {
	case "num_iterations":
		return atoi(&p.NumIterations)
	case "learning_rate":
		return atof(&p.LearningRate)
	case "num_leaves":
		return atoi(&p.NumLeaves)
	case "max_depth":
		return atoi(&p.MaxDepth)
	case "min_data_in_leaf":
		return atoi(&p.MinDataInLeaf)
	case "min_sum_hessian_in_leaf":
		return atof(&p.MinSumHessianInLeaf)
	case "lambda_l1":
		return atof(&p.LambdaL1)
	case "lambda_l2":
		return atof(&p.LambdaL2)
	case "min_gain_to_split":
		return atof(&p.MinGainToSplit)
	case "feature_fraction":
		return atof(&p.FeatureFraction)
	case "bagging_fraction":
		return atof(&p.BaggingFraction)
	case "bagging_freq":
		return atoi(&p.BaggingFreq)
	case "max_bin":
		return atoi(&p.MaxBin)
	case "min_data_in_bin":
		return atoi(&p.MinDataInBin)
	case "bin_construct_sample_cnt":
		return atoi(&p.BinSampleCount)
	case "early_stopping_round":
		return atoi(&p.EarlyStoppingRound)
	case "seed":
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return bad("not an integer")
		}
		p.Seed, p.SeedSet = n, true
		return nil
	case "max_cat_to_onehot":
		return atoi(&p.MaxCatToOnehot)
	case "max_cat_threshold":
		return atoi(&p.MaxCatThreshold)
	case "cat_smooth":
		return atof(&p.CatSmooth)
	case "cat_l2":
		return atof(&p.CatL2)
	case "min_data_per_group":
		return atoi(&p.MinDataPerGroup)
	case "num_threads":
		return atoi(&p.NumThreads)
	case "monotone_constraints":
		var mc []int8
		if value != "" {
			for _, s := range strings.Split(value, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil || n < -1 || n > 1 {
					return bad("want comma-separated -1, 0 or 1, got %q", s)
				}
				mc = append(mc, int8(n))
			}
		}
		p.MonotoneConstraints = mc
		return nil
	case "objective":
		if value != "binary" {
			return bad("only objective=binary is supported")
		}
		return nil
	case "boosting":
		if value != "gbdt" {
			return bad("only boosting=gbdt is supported")
		}
		return nil
	case "verbosity", "verbose":
		return nil // logging level: the trainer does not log
	}
	return fmt.Errorf("%w %s: unknown parameter", ErrParam, key)
}

// validate checks ranges as LightGBM's Config::CheckParamConflict and the
// parameter docs do.
func (p *Params) validate() error {
	type check struct {
		ok   bool
		key  string
		want string
		v    any
	}
	for _, c := range []check{
		{p.NumIterations >= 0, "num_iterations", ">= 0", p.NumIterations},
		{p.LearningRate > 0, "learning_rate", "> 0", p.LearningRate},
		{p.NumLeaves >= 2 && p.NumLeaves <= 131072, "num_leaves", "in [2, 131072]", p.NumLeaves},
		{p.MinDataInLeaf >= 0, "min_data_in_leaf", ">= 0", p.MinDataInLeaf},
		{p.MinSumHessianInLeaf >= 0, "min_sum_hessian_in_leaf", ">= 0", p.MinSumHessianInLeaf},
		{p.LambdaL1 >= 0, "lambda_l1", ">= 0", p.LambdaL1},
		{p.LambdaL2 >= 0, "lambda_l2", ">= 0", p.LambdaL2},
		{p.MinGainToSplit >= 0, "min_gain_to_split", ">= 0", p.MinGainToSplit},
		{p.FeatureFraction > 0 && p.FeatureFraction <= 1, "feature_fraction", "in (0, 1]", p.FeatureFraction},
		{p.BaggingFraction > 0 && p.BaggingFraction <= 1, "bagging_fraction", "in (0, 1]", p.BaggingFraction},
		{p.BaggingFreq >= 0, "bagging_freq", ">= 0", p.BaggingFreq},
		{p.MaxBin >= 2 && p.MaxBin <= 65535, "max_bin", "in [2, 65535]", p.MaxBin},
		{p.MinDataInBin >= 1, "min_data_in_bin", ">= 1", p.MinDataInBin},
		{p.BinSampleCount >= 1, "bin_construct_sample_cnt", ">= 1", p.BinSampleCount},
		{p.EarlyStoppingRound >= 0, "early_stopping_round", ">= 0", p.EarlyStoppingRound},
		{p.MaxCatToOnehot >= 1, "max_cat_to_onehot", ">= 1", p.MaxCatToOnehot},
		{p.MaxCatThreshold >= 1, "max_cat_threshold", ">= 1", p.MaxCatThreshold},
		{p.CatSmooth >= 0, "cat_smooth", ">= 0", p.CatSmooth},
		{p.CatL2 >= 0, "cat_l2", ">= 0", p.CatL2},
		{p.MinDataPerGroup >= 1, "min_data_per_group", ">= 1", p.MinDataPerGroup},
	} {
		if !c.ok {
			return fmt.Errorf("%w %s=%v: must be %s", ErrParam, c.key, c.v, c.want)
		}
	}
	return nil
}

func (p *Params) threads() int {
	if p.NumThreads > 0 {
		return p.NumThreads
	}
	return runtime.GOMAXPROCS(0)
}

// seeds returns the bagging, feature-fraction and bin-sampling seeds. LightGBM
// uses 3, 2 and 1 by default and derives all three from seed when it is set.
func (p *Params) seeds() (bagging, feature, data uint64) {
	if !p.SeedSet {
		return 3, 2, 1
	}
	// 31-bit values, printable as the int32 seeds LightGBM writes.
	r := newRand(uint64(p.Seed))
	return r.next() >> 33, r.next() >> 33, r.next() >> 33
}

// effective returns the parameters as LightGBM writes them in a model file's
// parameters section.
func (p *Params) effective() []Param {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	i := strconv.Itoa
	mc := make([]string, len(p.MonotoneConstraints))
	for k, c := range p.MonotoneConstraints {
		mc[k] = strconv.Itoa(int(c))
	}
	bs, fs, ds := p.seeds()
	seed := "0"
	if p.SeedSet {
		seed = strconv.FormatInt(p.Seed, 10)
	}
	return []Param{
		{"boosting", "gbdt"},
		{"objective", "binary"},
		{"num_iterations", i(p.NumIterations)},
		{"learning_rate", f(p.LearningRate)},
		{"num_leaves", i(p.NumLeaves)},
		{"num_threads", i(p.threads())},
		{"seed", seed},
		{"max_depth", i(p.MaxDepth)},
		{"min_data_in_leaf", i(p.MinDataInLeaf)},
		{"min_sum_hessian_in_leaf", f(p.MinSumHessianInLeaf)},
		{"bagging_fraction", f(p.BaggingFraction)},
		{"bagging_freq", i(p.BaggingFreq)},
		{"bagging_seed", strconv.FormatUint(bs, 10)},
		{"feature_fraction", f(p.FeatureFraction)},
		{"feature_fraction_seed", strconv.FormatUint(fs, 10)},
		{"early_stopping_round", i(p.EarlyStoppingRound)},
		{"lambda_l1", f(p.LambdaL1)},
		{"lambda_l2", f(p.LambdaL2)},
		{"min_gain_to_split", f(p.MinGainToSplit)},
		{"min_data_per_group", i(p.MinDataPerGroup)},
		{"max_cat_threshold", i(p.MaxCatThreshold)},
		{"cat_l2", f(p.CatL2)},
		{"cat_smooth", f(p.CatSmooth)},
		{"max_cat_to_onehot", i(p.MaxCatToOnehot)},
		{"monotone_constraints", strings.Join(mc, ",")},
		{"monotone_constraints_method", "basic"},
		{"max_bin", i(p.MaxBin)},
		{"min_data_in_bin", i(p.MinDataInBin)},
		{"bin_construct_sample_cnt", i(p.BinSampleCount)},
		{"data_random_seed", strconv.FormatUint(ds, 10)},
		{"boost_from_average", "1"},
		{"sigmoid", "1"},
	}
}

// rng is a small deterministic generator (splitmix64) so that a seed gives
// the same model on every platform and Go version.
type rng struct{ s uint64 }

func newRand(seed uint64) *rng { return &rng{s: seed} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// intn returns a number in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

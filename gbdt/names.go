package gbdt

import (
	"maps"
	"slices"
)

// ParamNames are the canonical names of the parameters Params.Set takes,
// sorted: what an error lists and a suggestion is chosen from.
var ParamNames = []string{
	"bagging_fraction", "bagging_freq", "bin_construct_sample_cnt", "boosting", "cat_l2", "cat_smooth",
	"early_stopping_round", "feature_fraction", "lambda_l1", "lambda_l2", "learning_rate",
	"max_bin", "max_cat_threshold", "max_cat_to_onehot", "max_depth", "min_data_in_bin",
	"min_data_in_leaf", "min_data_per_group", "min_gain_to_split", "min_sum_hessian_in_leaf",
	"monotone_constraints", "num_iterations", "num_leaves", "num_threads", "objective", "seed",
	"verbosity",
}

// ParamKeys are ParamNames with LightGBM's aliases of them (num_boost_round,
// n_estimators, ...), sorted: every key Params.Set accepts.
func ParamKeys() []string {
	keys := slices.Concat(ParamNames, slices.Collect(maps.Keys(aliases)), []string{"verbose"})
	slices.Sort(keys)
	return slices.Compact(keys)
}

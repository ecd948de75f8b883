package model

import (
	"context"
	"fmt"
	"strings"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/gbdt"
	"github.com/creditrisk/engine/model/check"
	"github.com/creditrisk/engine/model/forest"
	"github.com/creditrisk/engine/model/lgbm"
	"github.com/creditrisk/engine/model/logistic"
)

// TrainOptions are the family-independent training options.
type TrainOptions struct {
	// Params are the family's hyper-parameters as key=value strings (from
	// the config or --set); an unknown key or a bad value is an error
	// naming the key and wrapping ErrParam.
	Params map[string]string
	// OnIteration, if set, receives each boosting iteration's metrics
	// (gbdt family only).
	OnIteration func(gbdt.Iteration)
}

// Train trains a model of the family on train; valid (may be nil) is used
// by families that monitor a validation set (gbdt: metrics per iteration
// and early stopping).
func Train(ctx context.Context, family string, train, valid *data.Table, opts TrainOptions) (Model, error) {
	switch family {
	case FamilyGBDT:
		m, err := lgbm.Train(ctx, train, valid, opts.Params, opts.OnIteration)
		if err != nil {
			return nil, err
		}
		return m, nil
	case FamilyLogistic:
		m, err := logistic.Train(ctx, train, opts.Params)
		if err != nil {
			return nil, err
		}
		return m, nil
	case FamilyForest:
		m, err := forest.Train(ctx, train, opts.Params)
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, fmt.Errorf("train: model family %q: want one of %s", family, strings.Join(Families, ", "))
}

// CheckParams reports the first bad hyper-parameter of the family without
// training, so that a run can refuse bad input before it records anything.
func CheckParams(family string, params map[string]string) error {
	switch family {
	case FamilyGBDT:
		p := gbdt.DefaultParams()
		return check.Params(params, nil, p.Set)
	case FamilyLogistic:
		p := logistic.DefaultParams()
		return check.Params(params, logistic.Keys, p.Set)
	case FamilyForest:
		p := forest.DefaultParams()
		return check.Params(params, forest.Keys, p.Set)
	}
	return fmt.Errorf("model family %q: want one of %s", family, strings.Join(Families, ", "))
}

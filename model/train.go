package model

import (
	"context"
	"fmt"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/gbdt"
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
	f, err := LookupFamily(family)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return f.Train(ctx, train, valid, opts.Params, opts.OnIteration)
}

// CheckParams reports the first bad hyper-parameter of the family without
// training, so that a run can refuse bad input before it records anything.
func CheckParams(family string, params map[string]string) error {
	f, err := LookupFamily(family)
	if err != nil {
		return err
	}
	return f.Check(params)
}

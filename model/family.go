package model

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/gbdt"
	"github.com/creditrisk/engine/model/family"
	"github.com/creditrisk/engine/model/forest"
	"github.com/creditrisk/engine/model/lgbm"
	"github.com/creditrisk/engine/model/logistic"
	"github.com/creditrisk/engine/scorecard"
)

// Family is one model family: everything the rest of the project knows of
// it. Adding a family is one entry in Families (and its own package).
type Family struct {
	// Name is the family as --model chooses it.
	Name string
	// Flavor is the MLflow flavor it is saved under, File its model file.
	Flavor, File string
	// Loader is the Python module (pyfunc/NAME.py of this package, which
	// Save ships in the directory's code/ folder) through which
	// mlflow.pyfunc loads the model; "" when the family has no
	// python_function flavor.
	Loader string
	// Defaults are the hyper-parameters train uses where the config says
	// nothing, when they differ from the family's own defaults.
	Defaults map[string]string
	// Train fits a model; valid (may be nil) is monitored by families that
	// boost (metrics per iteration, early stopping through onIter's data).
	Train func(ctx context.Context, train, valid *data.Table, params map[string]string, onIter func(gbdt.Iteration)) (Model, error)
	// Load reads the model file at path for the schema.
	Load func(path string, s *data.Schema) (Model, error)
	// Check reports the first bad hyper-parameter without training.
	Check func(params map[string]string) error
}

// Families are the model families, in the order help texts list them.
var Families = []Family{
	{
		Name: FamilyGBDT, Flavor: FlavorLightGBM, File: lgbm.FileName, Loader: "creditrisk_pyfunc",
		// LightGBM's 100 iterations at learning rate 0.1 with 31 leaves
		// overfit loan books of a few thousand rows: boost slower, with
		// smaller trees, and stop early on the validation split.
		Defaults: map[string]string{"num_iterations": "500", "learning_rate": "0.05", "num_leaves": "15", "early_stopping_round": "50"},
		Train: func(ctx context.Context, train, valid *data.Table, p map[string]string, onIter func(gbdt.Iteration)) (Model, error) {
			return nilIfErr(lgbm.Train(ctx, train, valid, p, onIter))
		},
		Load: func(path string, s *data.Schema) (Model, error) { return nilIfErr(lgbm.Load(path, s)) },
		Check: func(p map[string]string) error {
			d := gbdt.DefaultParams()
			return family.Params(p, gbdt.ParamKeys(), d.Set)
		},
	},
	{
		Name: FamilyLogistic, Flavor: FlavorLogistic, File: logistic.FileName,
		Train: func(ctx context.Context, train, _ *data.Table, p map[string]string, _ func(gbdt.Iteration)) (Model, error) {
			return nilIfErr(logistic.Train(ctx, train, p))
		},
		Load: func(path string, s *data.Schema) (Model, error) { return nilIfErr(logistic.Load(path, s)) },
		Check: func(p map[string]string) error {
			d := logistic.DefaultParams()
			return family.Params(p, logistic.Keys, d.Set)
		},
	},
	{
		Name: FamilyForest, Flavor: FlavorForest, File: forest.FileName,
		Train: func(ctx context.Context, train, _ *data.Table, p map[string]string, _ func(gbdt.Iteration)) (Model, error) {
			return nilIfErr(forest.Train(ctx, train, p))
		},
		Load: func(path string, s *data.Schema) (Model, error) { return nilIfErr(forest.Load(path, s)) },
		Check: func(p map[string]string) error {
			d := forest.DefaultParams()
			return family.Params(p, forest.Keys, d.Set)
		},
	},
	{
		Name: FamilyScorecard, Flavor: FlavorScorecard, File: scorecard.FileName,
		Loader: "creditrisk_scorecard",
		Train: func(ctx context.Context, train, _ *data.Table, p map[string]string, _ func(gbdt.Iteration)) (Model, error) {
			return nilIfErr(scorecard.Train(ctx, train, p))
		},
		Load: func(path string, s *data.Schema) (Model, error) { return nilIfErr(scorecard.Load(path, s)) },
		Check: func(p map[string]string) error {
			d := scorecard.DefaultParams()
			return family.Params(p, scorecard.Keys, d.Set)
		},
	},
}

// nilIfErr returns a family's concrete model as a Model, nil (not a typed
// nil pointer) on error.
func nilIfErr[M Model](m M, err error) (Model, error) {
	if err != nil {
		return nil, err
	}
	return m, nil
}

// FamilyNames are the families' names, for help texts and errors.
func FamilyNames() []string {
	names := make([]string, len(Families))
	for i, f := range Families {
		names[i] = f.Name
	}
	return names
}

// LookupFamily returns the family of the name; an unknown name is an
// error listing the known ones.
func LookupFamily(name string) (Family, error) {
	if i := slices.IndexFunc(Families, func(f Family) bool { return f.Name == name }); i >= 0 {
		return Families[i], nil
	}
	return Family{}, fmt.Errorf("model family %q: want one of %s", name, strings.Join(FamilyNames(), ", "))
}

// FamilyOfFlavor returns the family saved under an MLmodel flavor.
func FamilyOfFlavor(flavor string) (Family, bool) {
	i := slices.IndexFunc(Families, func(f Family) bool { return f.Flavor == flavor })
	if i < 0 {
		return Family{}, false
	}
	return Families[i], true
}

// pandasCategorical reads a LightGBM model file's category levels.
func pandasCategorical(model []byte) ([][]string, error) { return lgbm.PandasCategorical(model) }

// DataFile returns the model file name of a flavor this package saves
// (model.lgb, model.json, model.golearn, scorecard.json), or "" for
// another flavor.
func DataFile(flavor string) string {
	f, _ := FamilyOfFlavor(flavor)
	return f.File
}

package model

import (
	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/model/forest"
	"github.com/creditrisk/engine/model/lgbm"
	"github.com/creditrisk/engine/model/logistic"
)

// dataFiles is the model file of each flavor this package saves.
var dataFiles = map[string]string{
	FlavorLightGBM: lgbm.FileName,
	FlavorLogistic: logistic.FileName,
	FlavorForest:   forest.FileName,
}

// familyOf maps a flavor to its family name.
var familyOf = map[string]string{
	FlavorLightGBM: FamilyGBDT,
	FlavorLogistic: FamilyLogistic,
	FlavorForest:   FamilyForest,
}

// loaders load each flavor's model file.
var loaders = map[string]func(path string, s *data.Schema) (Model, error){
	FlavorLightGBM: func(p string, s *data.Schema) (Model, error) { return lgbm.Load(p, s) },
	FlavorLogistic: func(p string, s *data.Schema) (Model, error) { return logistic.Load(p, s) },
	FlavorForest:   func(p string, s *data.Schema) (Model, error) { return forest.Load(p, s) },
}

// pandasCategorical reads a LightGBM model file's category levels.
func pandasCategorical(model []byte) ([][]string, error) { return lgbm.PandasCategorical(model) }

// DataFile returns the model file name of a flavor this package saves
// (model.lgb, model.json, model.golearn), or "" for another flavor.
func DataFile(flavor string) string { return dataFiles[flavor] }

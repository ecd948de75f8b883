// Package model is the one interface over the model families (gbdt,
// logistic, forest, scorecard) and the model directory, the unit that moves between
// train, the registry, promote, predict and serve.
//
// A model directory follows MLflow's layout so that MLflow shows it as a
// model and, for the gbdt and scorecard families, Python loads it with
// mlflow.pyfunc (gbdt also with mlflow.lightgbm; a scorecard through the
// loader module shipped in code/, which needs only numpy and pandas):
//
//	MLmodel                     MLflow's YAML description: flavors, signature, uuid, run id
//	model.lgb | model.json | model.golearn | scorecard.json   the family's model file
//	schema.json                 the feature schema (data.Schema): names, types, levels, required
//	input_example.json          a few rows, {"columns": [...], "data": [[...]]} (pandas split orient)
//	serving_input_example.json  the same rows as an MLflow scoring request
//	requirements.txt, python_env.yaml, conda.yaml   the Python environment (pyfunc flavors only)
//	code/creditrisk_scorecard.py  the scorecard's pyfunc loader (scorecard only)
//	checksums.json              the sha256 of every other file
//
// Categorical features are integer codes (indexes into the schema's levels)
// in every model file and in the MLflow signature and input example, where
// they are declared "double" so that a missing category can be NaN. A
// Python user scoring through mlflow.pyfunc encodes category strings with
// the levels in schema.json first; pyfunc cannot take category strings,
// because its schema enforcement turns pandas category columns into object
// columns, which LightGBM rejects. See [Save] for the details.
//
// Load reads a directory and dispatches on the MLmodel flavor; Verify checks
// the checksums, and is separate so that a caller decides what a directory
// without checksums.json (one written by Python's mlflow.lightgbm) means.
package model

package tracking

// The layout of a training run's artifacts. train writes it; promote,
// serve and the report read it; no other package spells these names.
const (
	// ModelPath is the model directory (an MLflow model: MLmodel, the
	// model file, schema, checksums, reference profile).
	ModelPath = "model"
	// HoldoutFile holds the test split's rows in their source form;
	// promote scores champion and challenger on it.
	HoldoutFile = "holdout.csv"
	// EvaluationFile is the test split's evaluation (evaluate.Report).
	EvaluationFile = "evaluation.json"
	// PlotsPath holds the run's charts.
	PlotsPath = "plots"
)

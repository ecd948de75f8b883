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
	// ScorecardPath holds a scorecard's table, IV ranking and binning
	// plots (scorecard.Model.WriteArtifacts).
	ScorecardPath = "scorecard"
	// SplitManifestFile records which input rows went to each part of the
	// split (data.Manifest); train --split-manifest replays it.
	SplitManifestFile = "split_manifest.json"
	// FairnessFile holds the fair-lending figures of the test split per
	// protected characteristic (train --protected).
	FairnessFile = "fairness.json"
	// DataProfileFile describes the input for the validation report:
	// rows and default rate per part, missingness, feature profiles, the
	// period, the training scores.
	DataProfileFile = "data_profile.json"
	// ReportFile is the validation report (pipeline report), logged on
	// registration and on promotion.
	ReportFile = "validation_report.html"
)

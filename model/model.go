package model

import (
	"errors"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/model/family"
)

// Model is a trained binary classifier of one family. Rows are feature
// vectors in the order of Schema().Features, as data.Schema encodes them:
// numbers for numeric features, category codes for categorical ones, NaN
// for a missing value. A Model is safe for concurrent use.
type Model interface {
	// Flavor is the MLflow flavor name the model is saved under.
	Flavor() string
	// Schema describes the model's input.
	Schema() *data.Schema
	// Params are the effective hyper-parameters, for logging.
	Params() map[string]string
	// Predict returns the probability of the positive class (default) for
	// each row. A row of the wrong length is an error, not a guess.
	Predict(rows [][]float64) ([]float64, error)
	// Explain returns each feature's contribution to the row's raw score
	// (log-odds), indexed like Schema().Features, and the base value; the
	// contributions plus base equal the raw score. Families that cannot
	// explain return an error wrapping ErrNoExplain.
	Explain(row []float64) (contrib []float64, base float64, err error)
	// Save writes the model's own file(s) into dir (see DataFile).
	Save(dir string) error
}

// Importancer is implemented by the families that rank their features
// (all three): one value per feature of Schema(), larger meaning more
// important, and a short description of the measure for a plot's axis.
type Importancer interface {
	Importance() (values []float64, measure string)
}

// Scorer is implemented by the families that score in points (the
// scorecard): each feature's points for a row (indexed like Schema();
// 0 for features left out) and their sum, the score, higher for a safer
// applicant. /predict answers the score beside the probability.
type Scorer interface {
	Points(row []float64) (points []int, score int, err error)
}

// Flavor names in MLmodel.
const (
	FlavorLightGBM  = "lightgbm"
	FlavorPyfunc    = "python_function"
	FlavorLogistic  = "creditrisk_logistic"
	FlavorForest    = "creditrisk_forest"
	FlavorScorecard = "creditrisk_scorecard"
)

// Family names, as chosen by --model.
const (
	FamilyGBDT      = "gbdt"
	FamilyLogistic  = "logistic"
	FamilyForest    = "forest"
	FamilyScorecard = "scorecard"
)

// Errors to test with errors.Is.
var (
	// ErrNoExplain is wrapped by Explain of a family without explanations.
	ErrNoExplain = family.ErrNoExplain
	// ErrChecksum is wrapped when a file's sha256 differs from checksums.json,
	// or a file is missing or unlisted.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrNoChecksums is wrapped by Verify when the directory has no
	// checksums.json (e.g. written by Python's mlflow).
	ErrNoChecksums = errors.New("no checksums.json")
	// ErrFormat is wrapped by every error about a malformed file in a model
	// directory.
	ErrFormat = errors.New("malformed model directory")
	// ErrFlavor is wrapped when no flavor of MLmodel is one this package loads.
	ErrFlavor = errors.New("unsupported model flavor")
	// ErrRowLength is wrapped by Predict and Explain for a row whose length
	// differs from the number of features.
	ErrRowLength = family.ErrRowLength
	// ErrParam is wrapped by every error about a training parameter.
	ErrParam = family.ErrParam
)

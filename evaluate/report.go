package evaluate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// SchemaVersion is the version of the evaluation.json layout; it changes
// only when a field is renamed or removed.
const SchemaVersion = 1

// Report is the full evaluation of one model on one labelled sample, the
// content of evaluation.json. Every number is finite, so it always
// marshals to JSON.
type Report struct {
	SchemaVersion int              `json:"schema_version"`
	N             int              `json:"n"`
	Bads          int              `json:"bads"`
	Goods         int              `json:"goods"`
	BadRate       float64          `json:"bad_rate"`
	AUC           float64          `json:"auc"`
	Gini          float64          `json:"gini"`
	KS            float64          `json:"ks"`
	KSScore       float64          `json:"ks_score"` // score where KS is reached
	LogLoss       float64          `json:"log_loss"`
	Brier         float64          `json:"brier"`
	ECE           float64          `json:"ece"`
	AtCutoff      CutoffMetrics    `json:"at_cutoff"`
	Calibration   []CalibrationBin `json:"calibration"`
	Lift          []LiftRow        `json:"lift"`
}

// Evaluate computes the report for labels (0/1, 1 = bad) and scores
// (probabilities of default), declining scores at or above cutoff. It needs
// at least one bad and one good.
func Evaluate(labels, scores []float64, cutoff float64) (*Report, error) {
	if err := checkCutoff(cutoff); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	s, err := newSample(labels, scores, "scores", true)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	if err := bothClasses(s.bads, s.goods); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	r := &Report{
		SchemaVersion: SchemaVersion,
		N:             len(labels),
		Bads:          s.bads,
		Goods:         s.goods,
		BadRate:       ratio(s.bads, len(labels)),
		AUC:           s.auc(),
		LogLoss:       logLoss(labels, scores),
		Brier:         brier(labels, scores),
		AtCutoff:      *atCutoff(labels, scores, cutoff),
		Calibration:   s.calibration(),
		Lift:          s.lift(),
	}
	r.Gini = 2*r.AUC - 1
	r.KS, r.KSScore = s.ks()
	r.ECE = ECE(r.Calibration)
	return r, nil
}

// Metrics returns the headline metrics under plain names (auc, gini, ks,
// log_loss, brier, accuracy, precision, recall, f1, approval_rate,
// bad_rate_approved, ece) for logging to MLflow; the caller adds any
// prefix such as "test_".
func (r *Report) Metrics() map[string]float64 {
	return map[string]float64{
		"auc":               r.AUC,
		"gini":              r.Gini,
		"ks":                r.KS,
		"log_loss":          r.LogLoss,
		"brier":             r.Brier,
		"accuracy":          r.AtCutoff.Accuracy,
		"precision":         r.AtCutoff.Precision,
		"recall":            r.AtCutoff.Recall,
		"f1":                r.AtCutoff.F1,
		"approval_rate":     r.AtCutoff.ApprovalRate,
		"bad_rate_approved": r.AtCutoff.BadRateApproved,
		"ece":               r.ECE,
	}
}

// WriteJSON writes the report as indented JSON (evaluation.json).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write evaluation report: %w", err)
	}
	return nil
}

// ErrReport marks an evaluation.json that cannot be read back.
var ErrReport = errors.New("invalid evaluation report")

// ReadReport reads an evaluation.json written by WriteJSON, for example the
// champion's when promoting. It rejects unknown schema versions, unknown
// fields and headline metrics outside their range.
func ReadReport(rd io.Reader) (*Report, error) {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	var r Report
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("read evaluation report: %w: %w", ErrReport, err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("read evaluation report: %w: schema_version %d, want %d",
			ErrReport, r.SchemaVersion, SchemaVersion)
	}
	if r.N <= 0 || r.Bads < 0 || r.Goods < 0 || r.Bads+r.Goods != r.N {
		return nil, fmt.Errorf("read evaluation report: %w: n=%d bads=%d goods=%d",
			ErrReport, r.N, r.Bads, r.Goods)
	}
	for name, v := range r.Metrics() {
		lo, hi := 0.0, 1.0
		switch name {
		case "gini":
			lo = -1
		case "log_loss":
			hi = math.Inf(1)
		}
		if math.IsNaN(v) || v < lo || v > hi {
			return nil, fmt.Errorf("read evaluation report: %w: %s = %v", ErrReport, name, v)
		}
	}
	return &r, nil
}

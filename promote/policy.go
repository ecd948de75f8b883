package promote

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"go.yaml.in/yaml/v3"
)

// Policy is the set of gates a candidate must pass; configs/promote.yaml
// documents every key.
type Policy struct {
	MinAUC   float64 `yaml:"min_auc" json:"min_auc"`
	MaxBrier float64 `yaml:"max_brier" json:"max_brier"`
	MaxECE   float64 `yaml:"max_ece" json:"max_ece"`

	// AUCMargin is the least candidate-minus-champion holdout AUC.
	AUCMargin float64 `yaml:"auc_margin" json:"auc_margin"`
	// DeLongP: a candidate with a lower AUC fails when DeLong's two-sided
	// p-value is below it.
	DeLongP float64 `yaml:"delong_p_value" json:"delong_p_value"`

	MaxPSI  float64 `yaml:"max_psi" json:"max_psi"`
	GatePSI bool    `yaml:"gate_psi" json:"gate_psi"`

	AllowSchemaChange bool `yaml:"allow_schema_change" json:"allow_schema_change"`

	// MinAdverseImpactRatio, when above 0, is the least adverse impact
	// ratio the candidate may show on its test split over every protected
	// characteristic it was trained with (train --protected); 0 turns the
	// gate off. evaluate.FourFifths (0.8) is the usual reference point.
	MinAdverseImpactRatio float64 `yaml:"min_adverse_impact_ratio" json:"min_adverse_impact_ratio,omitempty"`
}

// DefaultPolicy is the policy of configs/promote.yaml.
func DefaultPolicy() Policy {
	return Policy{
		MinAUC:    0.70,
		MaxBrier:  0.25,
		MaxECE:    0.10,
		AUCMargin: 0,
		DeLongP:   0.05,
		MaxPSI:    0.25,
	}
}

// PolicyError is an invalid policy value or file.
type PolicyError struct {
	File  string // empty for a policy built in code
	Field string // the YAML key
	Msg   string
}

func (e *PolicyError) Error() string {
	where := "policy"
	if e.File != "" {
		where = "policy " + e.File
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", where, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", where, e.Msg)
}

// Validate checks every value's range.
func (p Policy) Validate() error {
	unit := func(field string, v float64) error {
		if math.IsNaN(v) || v < 0 || v > 1 {
			return &PolicyError{Field: field, Msg: fmt.Sprintf("%v is not between 0 and 1", v)}
		}
		return nil
	}
	for _, c := range []struct {
		field string
		v     float64
	}{{"min_auc", p.MinAUC}, {"max_brier", p.MaxBrier}, {"max_ece", p.MaxECE}, {"delong_p_value", p.DeLongP},
		{"min_adverse_impact_ratio", p.MinAdverseImpactRatio}} {
		if err := unit(c.field, c.v); err != nil {
			return err
		}
	}
	if math.IsNaN(p.AUCMargin) || p.AUCMargin < -1 || p.AUCMargin > 1 {
		return &PolicyError{Field: "auc_margin", Msg: fmt.Sprintf("%v is not between -1 and 1", p.AUCMargin)}
	}
	if math.IsNaN(p.MaxPSI) || math.IsInf(p.MaxPSI, 0) || p.MaxPSI < 0 {
		return &PolicyError{Field: "max_psi", Msg: fmt.Sprintf("%v is not a number of at least 0", p.MaxPSI)}
	}
	return nil
}

// ParsePolicy reads a policy from YAML; keys left out keep their defaults,
// unknown keys are errors. name is the file's name for errors.
func ParsePolicy(name string, b []byte) (Policy, error) {
	p := DefaultPolicy()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// io.EOF: an empty file or one of only comments means all defaults.
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return p, &PolicyError{File: name, Msg: err.Error()}
	}
	if err := p.Validate(); err != nil {
		var pe *PolicyError
		if errors.As(err, &pe) {
			pe.File = name
		}
		return p, err
	}
	return p, nil
}

// LoadPolicy reads a policy file.
func LoadPolicy(path string) (Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return DefaultPolicy(), fmt.Errorf("read policy: %w", err)
	}
	return ParsePolicy(path, b)
}

package train

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/creditrisk/engine/gbdt"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/report"
)

// Config is everything a training run needs. Its YAML form is documented,
// key by key, in configs/train.yaml.
type Config struct {
	Data       DataConfig       `yaml:"data"`
	Split      SplitConfig      `yaml:"split"`
	Model      ModelConfig      `yaml:"model"`
	Evaluation EvaluationConfig `yaml:"evaluation"`
	Fairness   FairnessConfig   `yaml:"fairness"`
	Tracking   TrackingConfig   `yaml:"tracking"`
}

// DataConfig says where the loan data comes from and how to read it.
type DataConfig struct {
	Path     string            `yaml:"path"`     // CSV file; empty: the embedded German credit data
	Label    string            `yaml:"label"`    // label column
	Positive string            `yaml:"positive"` // label value of a default (the positive class)
	Types    map[string]string `yaml:"types"`    // column → numeric | categorical | ignore
	Date     string            `yaml:"date"`     // date column: the report's period, never a feature
}

// SplitConfig is the stratified train/validation/test split.
type SplitConfig struct {
	Seed       int64   `yaml:"seed"`
	Validation float64 `yaml:"validation"`
	Test       float64 `yaml:"test"`
	// Manifest is a split manifest (split_manifest.json of a run): train
	// on exactly its parts; seed and fractions are then unused.
	Manifest string `yaml:"manifest"`
	// Refit trains the final model again on every row, with what the
	// split run chose (its best iteration), as a run of its own.
	Refit bool `yaml:"refit"`
}

// FairnessConfig names the protected characteristics measured on the test
// split (approval rate, adverse impact ratio, AUC and TPR per group).
type FairnessConfig struct {
	Protected []report.Protected `yaml:"protected"`
	// KeepFeatures keeps the protected columns among the model's
	// features; by default they are measured only.
	KeepFeatures bool `yaml:"keep_features"`
}

// ModelConfig chooses the family and its hyper-parameters.
type ModelConfig struct {
	Family string            `yaml:"family"` // gbdt | logistic | forest | scorecard
	Params map[string]string `yaml:"params"` // family-specific, e.g. num_leaves for gbdt
}

// EvaluationConfig sets the decision cut-off: applicants whose probability of
// default is at or above it are declined.
type EvaluationConfig struct {
	Cutoff float64 `yaml:"cutoff"`
}

// TrackingConfig names the MLflow experiment, the run and the registered model.
type TrackingConfig struct {
	Experiment  string `yaml:"experiment"` // empty: named after the data set
	RunName     string `yaml:"run_name"`
	Description string `yaml:"description"`
	Register    string `yaml:"register"` // registered model name; empty: don't register
}

// DefaultConfig is the configuration used where neither a config file nor a
// flag says otherwise.
func DefaultConfig() Config {
	return Config{
		Split:      SplitConfig{Seed: 42, Validation: 0.2, Test: 0.2},
		Model:      ModelConfig{Family: "gbdt"},
		Evaluation: EvaluationConfig{Cutoff: 0.5},
		// No experiment: the run goes to one named after the data set.
	}
}

// ConfigError is a problem with a configuration value, naming its key and,
// for files, the file.
type ConfigError struct {
	File string // empty for flags and --set
	Key  string
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("%s: %s: %s", e.File, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Key, e.Msg)
}

// LoadConfig reads a YAML config file over the defaults. Unknown keys are
// errors, so a typo never silently leaves a default in place.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// io.EOF: a file of only comments means "all defaults".
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.File = path
		}
		return cfg, err
	}
	return cfg, nil
}

// Set applies one --set key=value to the model parameters; the family's
// trainer validates the key and the value.
func (c *Config) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return &ConfigError{Key: "--set " + kv, Msg: "want key=value"}
	}
	if c.Model.Params == nil {
		c.Model.Params = map[string]string{}
	}
	c.Model.Params[k] = strings.TrimSpace(v)
	return nil
}

// Validate checks the values that don't depend on the data.
func (c *Config) Validate() error {
	if _, err := model.LookupFamily(c.Model.Family); err != nil {
		return &ConfigError{Key: "model.family", Msg: fmt.Sprintf("unknown family %q (want one of %s)", c.Model.Family, strings.Join(model.FamilyNames(), ", "))}
	}
	s := c.Split
	if s.Validation <= 0 || s.Test <= 0 || s.Validation+s.Test >= 1 {
		return &ConfigError{Key: "split", Msg: fmt.Sprintf("validation (%g) and test (%g) must be positive fractions that leave rows for training", s.Validation, s.Test)}
	}
	if !(c.Evaluation.Cutoff > 0 && c.Evaluation.Cutoff < 1) {
		return &ConfigError{Key: "evaluation.cutoff", Msg: fmt.Sprintf("%g is not a probability strictly between 0 and 1", c.Evaluation.Cutoff)}
	}
	if c.Data.Path != "" && (c.Data.Label == "" || c.Data.Positive == "") {
		return &ConfigError{Key: "data.path", Msg: "a data file needs its label column and positive value: data.label and data.positive"}
	}
	if c.Data.Date != "" && c.Data.Path == "" {
		return &ConfigError{Key: "data.date", Msg: "the embedded German credit data has no date column; give data.path too"}
	}
	seen := map[string]bool{}
	for i, p := range c.Fairness.Protected {
		key := fmt.Sprintf("fairness.protected[%d]", i)
		switch {
		case strings.TrimSpace(p.Column) == "":
			return &ConfigError{Key: key, Msg: "column is empty"}
		case seen[p.Column]:
			return &ConfigError{Key: key, Msg: fmt.Sprintf("column %q is listed twice", p.Column)}
		case p.Column == c.Data.Date:
			return &ConfigError{Key: key, Msg: fmt.Sprintf("column %q is the date column", p.Column)}
		}
		if _, err := report.ParseProtected(p.String()); err != nil {
			return &ConfigError{Key: key, Msg: err.Error()}
		}
		seen[p.Column] = true
	}
	return nil
}

// withFamilyDefaults returns the model parameters with the family's
// defaults filled in where the config says nothing.
func (c *Config) withFamilyDefaults() map[string]string {
	p := map[string]string{}
	set := map[string]bool{}
	for k, v := range c.Model.Params {
		p[k] = v
		set[gbdt.CanonicalParam(k)] = true
	}
	f, _ := model.LookupFamily(c.Model.Family)
	for k, v := range f.Defaults {
		if !set[k] {
			p[k] = v
		}
	}
	return p
}

package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/creditrisk/engine/data"
)

// MLmodel is the MLmodel file of a model directory, as MLflow 2.x and 3.x
// write it. Fields are in MLflow's (alphabetical) order; unknown fields of a
// file written by MLflow are kept in Extra so nothing is lost on reading.
type MLmodel struct {
	ArtifactPath string `yaml:"artifact_path,omitempty"`
	// Flavors maps a flavor name to its configuration, e.g.
	// "lightgbm" -> {data: model.lgb, lgb_version: 4.6.0, ...}.
	Flavors       map[string]map[string]any `yaml:"flavors"`
	Metadata      map[string]any            `yaml:"metadata,omitempty"`
	MLflowVersion string                    `yaml:"mlflow_version,omitempty"`
	// ModelID is the MLflow 3 logged model the directory belongs to.
	ModelID               string            `yaml:"model_id,omitempty"`
	ModelSizeBytes        int64             `yaml:"model_size_bytes,omitempty"`
	ModelUUID             string            `yaml:"model_uuid,omitempty"`
	RunID                 string            `yaml:"run_id,omitempty"`
	SavedInputExampleInfo *InputExampleInfo `yaml:"saved_input_example_info,omitempty"`
	Signature             *Signature        `yaml:"signature,omitempty"`
	UTCTimeCreated        string            `yaml:"utc_time_created,omitempty"`

	Extra map[string]any `yaml:",inline"`
}

// InputExampleInfo is MLmodel's saved_input_example_info.
type InputExampleInfo struct {
	ArtifactPath     string `yaml:"artifact_path"`
	PandasOrient     string `yaml:"pandas_orient,omitempty"`
	ServingInputPath string `yaml:"serving_input_path,omitempty"`
	Type             string `yaml:"type"`
}

// Signature is MLmodel's signature: inputs and outputs are JSON strings of
// column or tensor specs, as MLflow stores them.
type Signature struct {
	Inputs  string  `yaml:"inputs"`
	Outputs string  `yaml:"outputs"`
	Params  *string `yaml:"params"`
}

// ColSpec is one column of a signature's inputs. MLflow 3.x writes
// "required" (default true), 2.x "optional" (default false); each rejects
// the other's key, so a required column is written with neither.
type ColSpec struct {
	Type     string `json:"type"`
	Name     string `json:"name,omitempty"`
	Required *bool  `json:"required,omitempty"`
	Optional *bool  `json:"optional,omitempty"`
}

// IsRequired reads either key.
func (c ColSpec) IsRequired() bool {
	switch {
	case c.Required != nil:
		return *c.Required
	case c.Optional != nil:
		return !*c.Optional
	}
	return true
}

// predictionOutputs is the signature output of a model returning one
// probability per row, as MLflow infers it for Booster.predict.
const predictionOutputs = `[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]`

// ParseMLmodel reads an MLmodel file's content. name is used in errors.
func ParseMLmodel(name string, b []byte) (m *MLmodel, err error) {
	defer func() {
		// yaml.v3 has panicked on hostile input before; the file comes from
		// outside, so a panic must become an error.
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%s: invalid YAML (%v): %w", name, r, ErrFormat)
		}
	}()
	var mm MLmodel
	if err := yaml.Unmarshal(b, &mm); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", name, err, ErrFormat)
	}
	if len(mm.Flavors) == 0 {
		return nil, fmt.Errorf("%s: no flavors: %w", name, ErrFormat)
	}
	return &mm, nil
}

// Marshal writes the MLmodel file's content.
func (m *MLmodel) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("write MLmodel: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write MLmodel: %w", err)
	}
	return buf.Bytes(), nil
}

// JSON returns the MLmodel as MLflow's Model.to_json() does: the
// model_json of the log-model REST call, which the tracking server appends
// to the run's mlflow.log-model.history tag.
func (m *MLmodel) JSON() ([]byte, error) {
	y, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if err := yaml.Unmarshal(y, &v); err != nil {
		return nil, fmt.Errorf("MLmodel to JSON: %w", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("MLmodel to JSON: %w", err)
	}
	return b, nil
}

// FlavorNames returns the flavor names, sorted.
func (m *MLmodel) FlavorNames() []string {
	out := make([]string, 0, len(m.Flavors))
	for k := range m.Flavors {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// DataFile returns the data file of a flavor (its "data" key).
func (m *MLmodel) DataFile(flavor string) (string, error) {
	conf, ok := m.Flavors[flavor]
	if !ok {
		return "", fmt.Errorf("MLmodel: no flavor %q: %w", flavor, ErrFormat)
	}
	s, ok := conf["data"].(string)
	if !ok || s == "" {
		return "", fmt.Errorf("MLmodel: flavors.%s.data is missing or not a string: %w", flavor, ErrFormat)
	}
	if !localName(s) {
		return "", fmt.Errorf("MLmodel: flavors.%s.data %q is not a file inside the model directory: %w", flavor, s, ErrFormat)
	}
	return s, nil
}

// localName reports whether a relative path stays inside its directory.
func localName(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." || part == "" {
			return false
		}
	}
	return true
}

// InputSpecs parses the signature's inputs as column specs. It returns nil
// without error when there is no signature.
func (m *MLmodel) InputSpecs() ([]ColSpec, error) {
	if m.Signature == nil || m.Signature.Inputs == "" {
		return nil, nil
	}
	var specs []ColSpec
	if err := json.Unmarshal([]byte(m.Signature.Inputs), &specs); err != nil {
		return nil, fmt.Errorf("MLmodel: signature.inputs: %v: %w", err, ErrFormat)
	}
	for i, s := range specs {
		if s.Name == "" {
			return nil, fmt.Errorf("MLmodel: signature.inputs[%d] has no name (tensor signatures are not supported): %w", i, ErrFormat)
		}
	}
	return specs, nil
}

// signatureFor builds the signature of a model with this schema: numeric
// features are "double" (a missing value is NaN in the DataFrame pyfunc
// builds), or "long" when named in integer (whole numbers in training,
// as MLflow infers them), categorical ones "string", the levels as the
// applicant's data holds them (listed in MLmodel's metadata and
// schema.json). A feature that is not required is marked in the form of
// the MLflow version the directory is written for.
func signatureFor(s *data.Schema, mlflowVersion string, integer []string) (*Signature, error) {
	specs := make([]ColSpec, len(s.Features))
	yes := true
	no := false
	for i, f := range s.Features {
		specs[i] = ColSpec{Type: "double", Name: f.Name}
		switch {
		case f.Type == data.Categorical:
			specs[i].Type = "string"
		case slices.Contains(integer, f.Name):
			specs[i].Type = "long"
		}
		if !f.Required {
			if strings.HasPrefix(mlflowVersion, "2.") || strings.HasPrefix(mlflowVersion, "1.") {
				specs[i].Optional = &yes
			} else {
				specs[i].Required = &no
			}
		}
	}
	b, err := marshalPython(specs)
	if err != nil {
		return nil, err
	}
	return &Signature{Inputs: string(b), Outputs: predictionOutputs}, nil
}

// schemaFromSignature builds a schema for a directory without schema.json
// (written by Python). String columns become categorical with levels taken
// from levels (the model file's pandas_categorical, in column order); other
// types are numeric.
func schemaFromSignature(specs []ColSpec, levels [][]string) (*data.Schema, error) {
	if len(specs) == 0 {
		return nil, fmt.Errorf("MLmodel has no column signature and the directory no schema.json, so the features are unknown: %w", ErrFormat)
	}
	s := &data.Schema{Features: make([]data.Feature, len(specs))}
	cat := 0
	for i, c := range specs {
		f := data.Feature{Name: c.Name, Required: c.IsRequired()}
		switch c.Type {
		case "double", "float", "long", "integer", "boolean":
			f.Type = data.Numeric
		case "string":
			if cat >= len(levels) {
				return nil, fmt.Errorf("MLmodel: signature column %q is a string but the model file has no category levels for it (pandas_categorical): %w", c.Name, ErrFormat)
			}
			f.Type = data.Categorical
			f.Levels = levels[cat]
			cat++
		default:
			return nil, fmt.Errorf("MLmodel: signature column %q has type %q, which is not supported: %w", c.Name, c.Type, ErrFormat)
		}
		s.Features[i] = f
	}
	if cat != len(levels) {
		return nil, fmt.Errorf("MLmodel: signature has %d string columns but the model file has levels for %d: %w", cat, len(levels), ErrFormat)
	}
	// Round-trip through ParseSchema so the schema is validated and indexed.
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("schema from signature: %w", err)
	}
	out, err := data.ParseSchema(b)
	if err != nil {
		return nil, fmt.Errorf("schema from signature: %v: %w", err, ErrFormat)
	}
	return out, nil
}

// marshalPython writes JSON as Python's json.dumps does by default
// (", " and ": " separators), so the MLmodel looks like MLflow's own.
func marshalPython(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	var out bytes.Buffer
	inStr, esc := false, false
	for _, c := range b {
		out.WriteByte(c)
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case !inStr && (c == ',' || c == ':'):
			out.WriteByte(' ')
		}
	}
	return out.Bytes(), nil
}

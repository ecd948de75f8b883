package model

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/creditrisk/engine/data"
)

// Files of a model directory besides the family's data file.
const (
	MLmodelFile        = "MLmodel"
	SchemaFile         = "schema.json"
	ExampleFile        = "input_example.json"
	ServingExampleFile = "serving_input_example.json"
	RequirementsFile   = "requirements.txt"
	PythonEnvFile      = "python_env.yaml"
	CondaFile          = "conda.yaml"
	ChecksumsFile      = "checksums.json"
	// ProfileFile is the training data's reference profile (a
	// data.Profile as JSON) that serve measures drift against.
	ProfileFile = "reference_profile.json"
	// CodeDir holds a family's pyfunc loader module (Family.Loader).
	CodeDir = "code"
)

// pyfuncCode holds the Python loader modules that Save ships with the
// families that name one (Family.Loader). encodingModule, gbdt's loader,
// also holds the input rules (data.Encoder's) that every loader shares.
//
//go:embed pyfunc/*.py
var pyfuncCode embed.FS

const encodingModule = "creditrisk_pyfunc"

// Versions written into MLmodel and the Python environment files by
// default: the stack's MLflow 3.x and the LightGBM it ships with, whose
// loader reads the files the gbdt package writes.
const (
	DefaultMLflowVersion   = "3.17.2"
	DefaultLightGBMVersion = "4.7.0"
	DefaultPythonVersion   = "3.11.7"
)

// SaveOptions are what Save records besides the model. Zero values get
// defaults: a random UUID, the current time, the Default*Version constants.
type SaveOptions struct {
	RunID        string // MLflow run the model belongs to, if any
	ArtifactPath string // artifact path within the run, e.g. "model"; for a logged model its artifact location
	UUID         string // model_uuid (32 hex digits as MLflow writes it)
	// ModelID is the MLflow 3 logged model the directory is saved for; it
	// is also the model_uuid then, as MLflow 3 writes it.
	ModelID string
	Created time.Time

	MLflowVersion   string
	LightGBMVersion string
	PythonVersion   string

	// Example holds a few encoded rows (as Predict takes them) written to
	// input_example.json; serve warms a model up with them. Empty rows mean
	// no example.
	Example [][]float64
	// Metadata is merged into MLmodel's metadata.
	Metadata map[string]any
	// Files are extra files of the directory by name, e.g. the training
	// data's reference_profile.json; checksums.json covers them too.
	Files map[string][]byte
	// IntegerFeatures are numeric features whose training values were all
	// whole numbers, none missing: the signature declares them "long", as
	// MLflow infers a pandas int64 column, so that a DataFrame read from
	// the same CSV passes mlflow.pyfunc's schema enforcement (which
	// refuses int64 for "double").
	IntegerFeatures []string
}

// Save writes a complete model directory for m into dir, which must not
// exist or be empty: the model file, schema.json, the input example, the
// Python environment files (flavors with pyfunc), MLmodel and, last,
// checksums.json with the sha256 of every other file.
//
// For the gbdt family the MLmodel has MLflow's lightgbm and python_function
// flavors exactly as mlflow.lightgbm.save_model writes them for a Booster,
// so mlflow.lightgbm.load_model(dir) is a LightGBM Booster taking category
// codes, and mlflow.pyfunc.load_model(dir).predict(df) takes the level
// strings of categorical features (signature type string; codes still
// work) through the loader in code/ (pyfunc.go), with the same
// probabilities as Predict.
func Save(dir string, m Model, opts SaveOptions) error {
	if err := emptyDir(dir); err != nil {
		return err
	}
	schema := m.Schema()
	if schema == nil || len(schema.Features) == 0 {
		return fmt.Errorf("save model to %s: the model has no features", dir)
	}
	fam, ok := FamilyOfFlavor(m.Flavor())
	file := fam.File
	if !ok {
		return fmt.Errorf("save model to %s: flavor %q: %w", dir, m.Flavor(), ErrFlavor)
	}
	if err := m.Save(dir); err != nil {
		return fmt.Errorf("save model to %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
		return fmt.Errorf("save model to %s: the %s model did not write %s: %w", dir, m.Flavor(), file, err)
	}
	sb, err := indentJSON(schema)
	if err != nil {
		return fmt.Errorf("save model to %s: schema: %w", dir, err)
	}
	if err := writeFile(dir, SchemaFile, sb); err != nil {
		return err
	}

	mv := orDefault(opts.MLflowVersion, DefaultMLflowVersion)
	pv := orDefault(opts.PythonVersion, DefaultPythonVersion)
	lv := orDefault(opts.LightGBMVersion, DefaultLightGBMVersion)
	id := opts.UUID
	if id == "" {
		id = opts.ModelID
	}
	if id == "" {
		id = strings.ReplaceAll(uuid.NewString(), "-", "")
	}
	created := opts.Created
	if created.IsZero() {
		created = time.Now()
	}
	sig, err := signatureFor(schema, mv, opts.IntegerFeatures)
	if err != nil {
		return fmt.Errorf("save model to %s: signature: %w", dir, err)
	}
	mm := &MLmodel{
		ArtifactPath:   opts.ArtifactPath,
		MLflowVersion:  mv,
		ModelID:        opts.ModelID,
		ModelUUID:      id,
		RunID:          opts.RunID,
		Signature:      sig,
		UTCTimeCreated: created.UTC().Format("2006-01-02 15:04:05.000000"),
		Metadata: map[string]any{
			"creditrisk": map[string]any{
				"family":               familyName(m.Flavor()),
				"schema":               SchemaFile,
				"checksums":            ChecksumsFile,
				"categorical_encoding": "python_function and serve: the level strings; lightgbm and codes: index into the feature's levels in " + SchemaFile + ", NaN when missing",
			},
		},
	}
	if levels := categoricalLevels(schema); len(levels) > 0 {
		mm.Metadata["creditrisk"].(map[string]any)["categorical_levels"] = levels
	}
	maps.Copy(mm.Metadata, opts.Metadata)

	mm.Flavors = map[string]map[string]any{m.Flavor(): {"data": file, "format_version": 1}}
	if m.Flavor() == FlavorLightGBM {
		// The lightgbm flavor stays a plain Booster for mlflow.lightgbm.
		mm.Flavors[FlavorLightGBM] = map[string]any{"code": nil, "data": file, "lgb_version": lv, "model_class": "lightgbm.basic.Booster"}
	}
	if fam.Loader != "" {
		if err := savePyfunc(dir, mm, fam, file, mv, lv, pv); err != nil {
			return err
		}
	}

	if len(opts.Example) > 0 {
		if err := writeExample(dir, schema, opts.Example); err != nil {
			return err
		}
		mm.SavedInputExampleInfo = &InputExampleInfo{ArtifactPath: ExampleFile, PandasOrient: "split", ServingInputPath: ServingExampleFile, Type: "dataframe"}
	}
	for name, b := range opts.Files {
		if err := writeFile(dir, name, b); err != nil {
			return err
		}
	}
	// As MLflow does, the size is of the files written before MLmodel.
	if mm.ModelSizeBytes, err = dirSize(dir); err != nil {
		return fmt.Errorf("save model to %s: %w", dir, err)
	}
	mb, err := mm.Marshal()
	if err != nil {
		return fmt.Errorf("save model to %s: %w", dir, err)
	}
	if err := writeFile(dir, MLmodelFile, mb); err != nil {
		return err
	}
	sums, err := hashDir(dir)
	if err != nil {
		return fmt.Errorf("save model to %s: %w", dir, err)
	}
	cb, err := indentJSON(checksums{Algorithm: "sha256", Files: sums})
	if err != nil {
		return fmt.Errorf("save model to %s: checksums: %w", dir, err)
	}
	return writeFile(dir, ChecksumsFile, cb)
}

// indentJSON writes v indented, with <, > and & as themselves (category
// levels such as "... < 0 DM" stay readable).
func indentJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	return n, err
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return fmt.Errorf("save model: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("save model: %w", err)
	case len(ents) > 0:
		return fmt.Errorf("save model: %s exists and is not empty", dir)
	}
	return nil
}

func writeFile(dir, name string, b []byte) error {
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o666); err != nil {
		return fmt.Errorf("save model: write %s: %w", name, err)
	}
	return nil
}

type envFile struct{ name, body string }

// pythonEnv returns requirements.txt, python_env.yaml and conda.yaml as
// mlflow.lightgbm writes them, for mlflow and the packages pkgs. Only
// mlflow and the model's library are pinned: they decide whether the model
// loads; the others follow from them.
func pythonEnv(mlflowV, pyV string, pkgs ...string) []envFile {
	reqs := append([]string{"mlflow==" + mlflowV}, pkgs...)
	var conda strings.Builder
	fmt.Fprintf(&conda, "channels:\n- conda-forge\ndependencies:\n- python=%s\n- pip\n- pip:\n", pyV)
	for _, r := range reqs {
		fmt.Fprintf(&conda, "  - %s\n", r)
	}
	conda.WriteString("name: mlflow-env\n")
	return []envFile{
		{RequirementsFile, strings.Join(reqs, "\n") + "\n"},
		{PythonEnvFile, "python: " + pyV + "\nbuild_dependencies:\n- pip\n- setuptools\n- wheel\ndependencies:\n- -r requirements.txt\n"},
		{CondaFile, conda.String()},
	}
}

// savePyfunc ships the family's Python loader in code/, which pyfunc puts
// on sys.path before importing loader_module, so that mlflow.pyfunc takes
// categorical features as the level strings the signature declares.
func savePyfunc(dir string, mm *MLmodel, fam Family, file, mv, lv, pv string) error {
	src, err := pyfuncCode.ReadFile("pyfunc/" + fam.Loader + ".py")
	if err != nil {
		return fmt.Errorf("save model to %s: pyfunc loader: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, CodeDir), 0o777); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if err := writeFile(dir, path.Join(CodeDir, fam.Loader+".py"), src); err != nil {
		return err
	}
	if fam.Loader != encodingModule {
		// Every loader reads its input by the encoding module's rules.
		enc, err := pyfuncCode.ReadFile("pyfunc/" + encodingModule + ".py")
		if err != nil {
			return fmt.Errorf("save model to %s: pyfunc loader: %w", dir, err)
		}
		if err := writeFile(dir, path.Join(CodeDir, encodingModule+".py"), enc); err != nil {
			return err
		}
	}
	mm.Flavors[FlavorPyfunc] = map[string]any{
		"code":           CodeDir,
		"data":           file,
		"env":            map[string]any{"conda": CondaFile, "virtualenv": PythonEnvFile},
		"loader_module":  fam.Loader,
		"python_version": pv,
	}
	pkgs := []string{"numpy", "pandas"}
	if fam.Flavor == FlavorLightGBM {
		pkgs = []string{"lightgbm==" + lv, "numpy", "pandas", "scikit-learn", "scipy"}
	}
	for _, f := range pythonEnv(mv, pv, pkgs...) {
		if err := writeFile(dir, f.name, []byte(f.body)); err != nil {
			return err
		}
	}
	return nil
}

// Dir is a loaded model directory.
type Dir struct {
	Path    string
	MLmodel *MLmodel
	Flavor  string // the flavor the model was loaded through
	Model   Model
	// Example holds the input example's rows encoded for Predict; nil when
	// the directory has none.
	Example [][]float64
}

// Load loads the model of a directory; see Open.
func Load(dir string) (Model, error) {
	d, err := Open(dir)
	if err != nil {
		return nil, err
	}
	return d.Model, nil
}

// Open reads a model directory: MLmodel, the model file of the first
// flavor this package knows (creditrisk_logistic, creditrisk_forest,
// lightgbm), the schema (schema.json, or for a lightgbm directory written by
// Python the MLmodel signature with the model file's pandas_categorical
// levels) and the input example. It does not check checksums: see Verify.
func Open(dir string) (*Dir, error) {
	mb, err := readFile(filepath.Join(dir, MLmodelFile))
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	mm, err := ParseMLmodel(filepath.Join(dir, MLmodelFile), mb)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	var fam Family
	for _, f := range Families {
		if _, ok := mm.Flavors[f.Flavor]; ok {
			fam = f
			break
		}
	}
	flavor := fam.Flavor
	if flavor == "" {
		var known []string
		for _, f := range Families {
			known = append(known, f.Flavor)
		}
		return nil, fmt.Errorf("load model: %s has flavors %s, none of %s: %w",
			filepath.Join(dir, MLmodelFile), strings.Join(mm.FlavorNames(), ", "), strings.Join(known, ", "), ErrFlavor)
	}
	file, err := mm.DataFile(flavor)
	if err != nil {
		return nil, fmt.Errorf("load model: %s: %w", dir, err)
	}
	if err := checkBooster(mm, flavor, filepath.Join(dir, MLmodelFile)); err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	path := filepath.Join(dir, file)
	schema, err := readSchema(dir, flavor, mm, path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	m, err := fam.Load(path, schema)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	d := &Dir{Path: dir, MLmodel: mm, Flavor: flavor, Model: m}
	if info := mm.SavedInputExampleInfo; info != nil && info.ArtifactPath != "" {
		if !localName(info.ArtifactPath) {
			return nil, fmt.Errorf("load model: %s: saved_input_example_info.artifact_path %q is not a file inside the model directory: %w", filepath.Join(dir, MLmodelFile), info.ArtifactPath, ErrFormat)
		}
		p := filepath.Join(dir, info.ArtifactPath)
		b, err := readFile(p)
		if err != nil {
			return nil, fmt.Errorf("load model: input example: %w", err)
		}
		if d.Example, err = ParseExample(p, b, schema); err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
	}
	return d, nil
}

// checkBooster refuses a lightgbm flavor that holds a scikit-learn
// estimator (LGBMClassifier, or DaskLGBMClassifier.to_local()): MLflow
// pickles it (model.skops, model.pkl), which only Python can read, whereas
// a Booster is saved as LightGBM's text model, which Open reads.
func checkBooster(mm *MLmodel, flavor, name string) error {
	if flavor != FlavorLightGBM {
		return nil
	}
	class, _ := mm.Flavors[flavor]["model_class"].(string)
	if class == "" || class == "lightgbm.basic.Booster" {
		return nil
	}
	format, _ := mm.Flavors[flavor]["serialization_format"].(string)
	return fmt.Errorf("%s: flavors.lightgbm holds a %s serialized with %s, which only Python reads: log its booster instead, mlflow.lightgbm.log_model(model.booster_, ...): %w",
		name, clip(class), clip(orDefault(format, "pickle")), ErrFlavor)
}

// clip bounds a value from outside the program quoted in an error.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strconv.Quote(s)
}

// readSchema reads schema.json, or builds the schema from the signature for
// a lightgbm directory without one.
func readSchema(dir, flavor string, mm *MLmodel, modelPath string) (*data.Schema, error) {
	p := filepath.Join(dir, SchemaFile)
	b, err := readFile(p)
	if err == nil {
		s, err := data.ParseSchema(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %v: %w", p, err, ErrFormat)
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || flavor != FlavorLightGBM {
		return nil, err
	}
	specs, err := mm.InputSpecs()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, MLmodelFile), err)
	}
	line, err := lastLine(modelPath, pandasPrefix)
	if err != nil {
		return nil, err
	}
	levels, err := pandasCategorical(line)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", modelPath, err)
	}
	s, err := schemaFromSignature(specs, levels)
	if err != nil {
		return nil, fmt.Errorf("%s (no %s): %w", filepath.Join(dir, MLmodelFile), SchemaFile, err)
	}
	return s, nil
}

// Bounds of what Open reads whole (MLmodel, schema.json, the input example,
// checksums.json) and of the one line it looks for in a model file; the
// model file itself is read by its family's reader, which streams.
const (
	maxFileSize = 64 << 20
	maxLineSize = 16 << 20
)

// readFile reads a file of the model directory whole, refusing one larger
// than maxFileSize before reading it.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%s is more than %d bytes: %w", path, maxFileSize, ErrFormat)
	}
	return b, nil
}

// pandasPrefix starts the line where Python's LightGBM writes the category
// levels of a DataFrame's category columns.
const pandasPrefix = "pandas_categorical:"

// lastLine returns the last line of the file that starts with prefix, as
// "\n" + the line (the form lgbm.PandasCategorical looks for), or nil. The
// file is streamed: other lines are skipped whatever their length, the
// line kept is at most maxLineSize bytes.
func lastLine(path, prefix string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var last, cur []byte
	start, keep := true, false
	for {
		frag, err := r.ReadSlice('\n')
		if start {
			// A line's first fragment holds its first 64 KiB, more than
			// the prefix.
			keep = bytes.HasPrefix(frag, []byte(prefix))
			cur = cur[:0]
		}
		if keep {
			if len(cur)+len(frag) > maxLineSize {
				return nil, fmt.Errorf("%s: a %s line longer than %d bytes: %w", path, strings.TrimSuffix(prefix, ":"), maxLineSize, ErrFormat)
			}
			cur = append(cur, frag...)
		}
		start = err != bufio.ErrBufferFull
		if start && keep {
			last = append(append(last[:0], '\n'), bytes.TrimRight(cur, "\r\n")...)
		}
		if err == io.EOF {
			return last, nil
		}
		if err != nil && err != bufio.ErrBufferFull {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
}

// ParseExample decodes an input example in pandas split orient
// ({"columns": [...], "data": [[...]]}, as MLflow writes input_example.json)
// or wrapped as a scoring request ({"dataframe_split": {...}}) into rows for
// Predict. Numbers are taken as they are (category codes for categorical
// features), strings of a categorical feature are looked up among its
// levels, null is missing. name is used in errors.
func ParseExample(name string, b []byte, s *data.Schema) ([][]float64, error) {
	var ex struct {
		Columns []string `json:"columns"`
		Data    [][]any  `json:"data"`
		Split   *struct {
			Columns []string `json:"columns"`
			Data    [][]any  `json:"data"`
		} `json:"dataframe_split"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&ex); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", name, err, ErrFormat)
	}
	if ex.Split != nil {
		ex.Columns, ex.Data = ex.Split.Columns, ex.Split.Data
	}
	if len(ex.Columns) == 0 {
		return nil, fmt.Errorf("%s: no columns: %w", name, ErrFormat)
	}
	pos := make(map[string]int, len(s.Features))
	for i, f := range s.Features {
		pos[f.Name] = i
	}
	col := make([]int, len(ex.Columns))
	seen := make([]bool, len(s.Features))
	for j, c := range ex.Columns {
		i, ok := pos[c]
		if !ok {
			return nil, fmt.Errorf("%s: column %q is not a feature of the model: %w", name, c, ErrFormat)
		}
		if seen[i] {
			return nil, fmt.Errorf("%s: column %q given twice: %w", name, c, ErrFormat)
		}
		seen[i] = true
		col[j] = i
	}
	rows := make([][]float64, len(ex.Data))
	for r, vals := range ex.Data {
		if len(vals) != len(ex.Columns) {
			return nil, fmt.Errorf("%s: row %d has %d values for %d columns: %w", name, r, len(vals), len(ex.Columns), ErrFormat)
		}
		row := make([]float64, len(s.Features))
		for i := range row {
			row[i] = nan
		}
		for j, v := range vals {
			i := col[j]
			x, err := exampleValue(&s.Features[i], v)
			if err != nil {
				return nil, fmt.Errorf("%s: row %d, column %q: %v: %w", name, r, ex.Columns[j], err, ErrFormat)
			}
			row[i] = x
		}
		rows[r] = row
	}
	return rows, nil
}

func exampleValue(f *data.Feature, v any) (float64, error) {
	switch v := v.(type) {
	case nil:
		return nan, nil
	case json.Number:
		x, err := v.Float64()
		if err != nil {
			return 0, fmt.Errorf("bad number %q", v.String())
		}
		return x, nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case string:
		if f.Type != data.Categorical {
			return 0, fmt.Errorf("a string for a numeric feature")
		}
		if i := slices.Index(f.Levels, v); i >= 0 {
			return float64(i), nil
		}
		return nan, nil // an unseen category is missing, as in serving
	}
	return 0, fmt.Errorf("unexpected %T", v)
}

// categoricalLevels lists each categorical feature's levels, in code
// order, for MLmodel's metadata: what a string column of the signature
// may hold.
func categoricalLevels(s *data.Schema) map[string][]string {
	out := map[string][]string{}
	for _, f := range s.Features {
		if f.Type == data.Categorical {
			out[f.Name] = slices.Clone(f.Levels)
		}
	}
	return out
}

// familyName is the family saved under a flavor, for MLmodel's metadata.
func familyName(flavor string) string {
	f, _ := FamilyOfFlavor(flavor)
	return f.Name
}

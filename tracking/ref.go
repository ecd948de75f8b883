package tracking

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/mlflow"
)

// Ref is a parsed model reference, the one grammar of every command that
// takes a model:
//
//	models:/NAME/VERSION   a registered version
//	models:/NAME@ALIAS     the version an alias names now
//	models:/NAME/STAGE     the newest version in a stage (MLflow 2.x stages)
//	models:/MODEL_ID       an MLflow 3 logged model (m-<32 hex digits>)
//	runs:/RUN_ID/PATH      a run's artifacts (PATH is usually "model")
//	a directory            a local model directory (also file:/dir)
//
// Exactly one of Version, Alias and Stage is set for a models:/ reference
// to a registered model; ModelID for a logged model; RunID (with an
// optional Path) for runs:/; Dir for a directory.
type Ref struct {
	Name, Version, Alias, Stage string
	ModelID                     string
	RunID, Path                 string
	Dir                         string
	uri                         string
}

// String is the reference as it was given.
func (r Ref) String() string { return r.uri }

// Registered reports whether r names a registered model (models:/).
func (r Ref) Registered() bool { return r.Name != "" }

// Follows reports whether what r names can change without r changing: an
// alias or a stage.
func (r Ref) Follows() bool { return r.Alias != "" || r.Stage != "" }

// RefGrammar lists the kinds of model reference, for help texts and errors.
const RefGrammar = "models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/STAGE, models:/MODEL_ID, runs:/RUN_ID/PATH or a local directory"

// ParseRef parses a model reference; errors say what was expected.
func ParseRef(s string) (Ref, error) {
	switch {
	case strings.HasPrefix(s, "models:"):
		return parseModels(s)
	case strings.HasPrefix(s, "runs:"):
		run, p, err := splitRef(s, "runs:")
		if err != nil {
			return Ref{}, err
		}
		return Ref{RunID: run, Path: p, uri: s}, nil
	case strings.HasPrefix(s, "file:"):
		dir := strings.TrimPrefix(strings.TrimPrefix(s, "file://"), "file:")
		if dir == "" {
			return Ref{}, fmt.Errorf("model reference %q: want file:/path/to/model", s)
		}
		return Ref{Dir: dir, uri: s}, nil
	case s == "":
		return Ref{}, errors.New("model reference is empty: want " + RefGrammar)
	}
	if scheme, _, ok := strings.Cut(s, ":/"); ok && !strings.ContainsAny(scheme, `/\.`) && len(scheme) > 1 {
		return Ref{}, fmt.Errorf("model reference %q: scheme %s: is not supported; want %s", s, scheme, RefGrammar)
	}
	return Ref{Dir: s, uri: s}, nil
}

func parseModels(uri string) (Ref, error) {
	s := strings.TrimPrefix(strings.TrimPrefix(uri, "models:"), "/")
	if name, alias, ok := strings.Cut(s, "@"); ok {
		if name == "" || alias == "" || strings.ContainsAny(name, "/@") || strings.ContainsAny(alias, "/@") {
			return Ref{}, fmt.Errorf("model URI %q: want models:/<name>@<alias>", uri)
		}
		return Ref{Name: name, Alias: alias, uri: uri}, nil
	}
	name, sel, slash := strings.Cut(s, "/")
	if !slash && name != "" {
		// One segment names a logged model, as in MLflow 3's
		// _parse_model_uri.
		if err := mlflow.ValidateLoggedModelID(name); err != nil {
			return Ref{}, fmt.Errorf("model URI %q: want models:/<model_id>, models:/<name>/<version or stage> or models:/<name>@<alias>: %w", uri, err)
		}
		return Ref{ModelID: name, uri: uri}, nil
	}
	if name == "" || sel == "" || strings.Contains(sel, "/") {
		return Ref{}, fmt.Errorf("model URI %q: want models:/<name>/<version or stage>, models:/<name>@<alias> or models:/<model_id>", uri)
	}
	if _, err := strconv.ParseUint(sel, 10, 63); err == nil {
		return Ref{Name: name, Version: sel, uri: uri}, nil
	}
	return Ref{Name: name, Stage: sel, uri: uri}, nil
}

// splitRef splits scheme:/<first>/<rest> (also scheme:///<first>/<rest>).
func splitRef(uri, scheme string) (first, rest string, err error) {
	s := strings.TrimLeft(strings.TrimPrefix(uri, scheme), "/")
	first, rest, _ = strings.Cut(s, "/")
	if first == "" {
		return "", "", fmt.Errorf("artifact URI %q: want %s/<id>/<path>", uri, scheme)
	}
	if rest, err = artifact.CleanPath(rest); err != nil {
		return "", "", fmt.Errorf("artifact URI %q: %w", uri, err)
	}
	return first, rest, nil
}

// Lookup returns the registered version a models:/ reference names now.
// A missing model, version, alias or stage matches mlflow.ErrNotFound.
func Lookup(ctx context.Context, b Backend, r Ref) (*mlflow.ModelVersion, error) {
	var mv *mlflow.ModelVersion
	var err error
	switch {
	case !r.Registered():
		return nil, fmt.Errorf("%s is not a registered model reference (models:/NAME/…)", r)
	case r.Alias != "":
		mv, err = b.GetModelVersionByAlias(ctx, r.Name, r.Alias)
	case r.Stage != "":
		var vs []mlflow.ModelVersion
		if vs, err = b.GetLatestVersions(ctx, r.Name, r.Stage); err == nil {
			if len(vs) == 0 {
				return nil, fmt.Errorf("resolve %s: no version of model %q in stage %s: %w", r, r.Name, r.Stage, mlflow.ErrNotFound)
			}
			mv = &vs[0]
		}
	default:
		mv, err = b.GetModelVersion(ctx, r.Name, r.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", r, err)
	}
	return mv, nil
}

// Location returns the artifact URI of the files r names: a version's
// download URI, a run's artifact root joined with the path, or the
// directory itself.
func Location(ctx context.Context, b Backend, r Ref) (string, error) {
	switch {
	case r.Dir != "":
		return r.Dir, nil
	case r.ModelID != "":
		return loggedLocation(ctx, b, r)
	case r.RunID != "":
		if uri, ok, err := runModelLocation(ctx, b, r); err != nil || ok {
			return uri, err
		}
		root, err := b.RunArtifactURI(ctx, r.RunID)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", r, err)
		}
		return joinURI(root, r.Path), nil
	}
	mv, err := Lookup(ctx, b, r)
	if err != nil {
		return "", err
	}
	return VersionLocation(ctx, b, mv)
}

// VersionLocation returns where a registered version's files are. A
// server may answer with a runs:/ reference (versions registered from one,
// by Python clients); it is resolved through the run.
func VersionLocation(ctx context.Context, b Backend, mv *mlflow.ModelVersion) (string, error) {
	u, err := b.GetModelVersionDownloadURI(ctx, mv.Name, mv.Version)
	if err != nil {
		return "", fmt.Errorf("locate %s version %s: %w", mv.Name, mv.Version, err)
	}
	if strings.HasPrefix(u, "runs:") || strings.HasPrefix(u, "models:") {
		r, err := ParseRef(u)
		if err != nil {
			return "", fmt.Errorf("locate %s version %s: %w", mv.Name, mv.Version, err)
		}
		if r.Registered() {
			return "", fmt.Errorf("locate %s version %s: the registry answered the reference %s: %w", mv.Name, mv.Version, u, errors.ErrUnsupported)
		}
		return Location(ctx, b, r)
	}
	return u, nil
}

// loggedLocation is the artifact location of the logged model r names.
func loggedLocation(ctx context.Context, b Backend, r Ref) (string, error) {
	ok, err := b.SupportsLoggedModels(ctx)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", r, err)
	}
	if !ok {
		return "", fmt.Errorf("resolve %s: the tracking server has no logged models (MLflow 2.x); use models:/NAME/VERSION or runs:/RUN_ID/model: %w", r, mlflow.ErrNotFound)
	}
	lm, err := b.GetLoggedModel(ctx, r.ModelID)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", r, err)
	}
	if lm.Info.Status != mlflow.LoggedModelReady {
		return "", fmt.Errorf("resolve %s: the logged model is %s, not READY (its files may be incomplete)", r, lm.Info.Status)
	}
	return lm.Info.ArtifactURI, nil
}

// runModelLocation resolves runs:/RUN_ID/NAME[/…] to a logged model of
// the run named NAME, as MLflow 3 does for runs whose models live in
// their own artifact location rather than under the run; ok is false when
// the backend has no logged models or the run made none by that name.
func runModelLocation(ctx context.Context, b Backend, r Ref) (uri string, ok bool, err error) {
	if r.Path == "" {
		return "", false, nil
	}
	if has, err := b.SupportsLoggedModels(ctx); err != nil || !has {
		return "", false, err
	}
	run, err := b.GetRun(ctx, r.RunID)
	if err != nil {
		return "", false, fmt.Errorf("resolve %s: %w", r, err)
	}
	name, rest, _ := strings.Cut(r.Path, "/")
	for _, out := range run.Outputs.ModelOutputs {
		lm, err := b.GetLoggedModel(ctx, out.ModelID)
		if err != nil {
			return "", false, fmt.Errorf("resolve %s: output %w", r, err)
		}
		if lm.Info.Name == name {
			return joinURI(lm.Info.ArtifactURI, rest), true, nil
		}
	}
	return "", false, nil
}

// Download copies the files at an artifact URI (as Location answers) into
// the local directory dst.
func Download(ctx context.Context, b Backend, uri, dst string) error {
	store, err := b.Artifacts(uri)
	if err != nil {
		return fmt.Errorf("open %s: %w", uri, err)
	}
	if err := store.Download(ctx, "", dst); err != nil {
		return fmt.Errorf("download %s: %w", uri, err)
	}
	return nil
}

// Fetch copies the files r names into the local directory dst.
func Fetch(ctx context.Context, b Backend, r Ref, dst string) error {
	uri, err := Location(ctx, b, r)
	if err != nil {
		return err
	}
	return Download(ctx, b, uri, dst)
}

// joinURI appends a relative artifact path to a root URI.
func joinURI(root, p string) string {
	if p == "" {
		return root
	}
	return strings.TrimRight(root, "/") + "/" + p
}

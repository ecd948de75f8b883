package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/tracking"
)

// Version identifies what a model reference points at.
type Version struct {
	Name    string // registered model name ("" for a local directory)
	Version string // registry version, or "local"
	Alias   string // the alias followed, if any
	Stage   string // the stage followed, if any
	RunID   string
	// Key changes whenever the content may have changed: the version for a
	// registry, a digest of checksums.json (or MLmodel) for a directory.
	Key string
}

// Source tells which model version a reference points at and fetches it.
type Source interface {
	// Latest returns the version the reference points at now. It is
	// called on every poll, so it makes one cheap request at most.
	Latest(ctx context.Context) (Version, error)
	// Fetch makes the version's files available below tmp (a fresh,
	// empty directory the caller removes when the model is replaced) and
	// returns the model directory to load.
	Fetch(ctx context.Context, v Version, tmp string) (dir string, err error)
	// String describes the reference for logs; it holds no secret.
	String() string
}

// NewSource returns the source for a model reference (tracking.ParseRef's
// grammar): a models:/ or runs:/ reference through the backend b (required
// then), or a local model directory. Only an alias or a stage can move; a
// version, a run, a logged model (models:/<model_id>) or a directory is
// served as it is until a reload is asked for.
func NewSource(ref string, b tracking.Backend) (Source, error) {
	r, err := tracking.ParseRef(ref)
	if err != nil {
		return nil, err
	}
	if r.Dir != "" {
		return &Local{Dir: r.Dir}, nil
	}
	if b == nil {
		return nil, fmt.Errorf("model %s: a registry or run reference needs a tracking backend", ref)
	}
	if r.RunID != "" || r.ModelID != "" {
		return &Run{Backend: b, Ref: r}, nil
	}
	return &Registered{Backend: b, Ref: r}, nil
}

// Local serves a model directory on this machine. Its key is the digest
// of checksums.json (or of MLmodel when there is none), so a SIGHUP after
// the directory was rewritten loads the new content.
type Local struct{ Dir string }

func (l *Local) String() string { return l.Dir }

// Latest reads the directory's checksums (or MLmodel) to form the key.
func (l *Local) Latest(ctx context.Context) (Version, error) {
	b, err := os.ReadFile(filepath.Join(l.Dir, model.ChecksumsFile))
	if errors.Is(err, fs.ErrNotExist) {
		b, err = os.ReadFile(filepath.Join(l.Dir, model.MLmodelFile))
	}
	if err != nil {
		return Version{}, fmt.Errorf("read model directory %s: %w", l.Dir, err)
	}
	sum := sha256.Sum256(b)
	return Version{Version: "local", Key: hex.EncodeToString(sum[:8])}, nil
}

// Fetch copies nothing: the directory is loaded where it is.
func (l *Local) Fetch(ctx context.Context, v Version, tmp string) (string, error) {
	return l.Dir, nil
}

// Registered follows a models:/ reference through a backend's registry.
type Registered struct {
	Backend tracking.Backend
	Ref     tracking.Ref
}

func (r *Registered) String() string { return r.Ref.String() }

// ModelName is the registered model followed; webhooks about other models
// are ignored.
func (r *Registered) ModelName() string { return r.Ref.Name }

// Latest asks the registry for the version of the alias or stage (one
// request), or for the fixed version.
func (r *Registered) Latest(ctx context.Context) (Version, error) {
	mv, err := tracking.Lookup(ctx, r.Backend, r.Ref)
	if err != nil {
		return Version{}, err
	}
	if mv.Status != "" && mv.Status != mlflow.StatusReady {
		return Version{}, fmt.Errorf("resolve %s: version %s is %s, not READY", r.Ref, mv.Version, mv.Status)
	}
	return Version{
		Name: mv.Name, Version: mv.Version, Alias: r.Ref.Alias, Stage: r.Ref.Stage,
		RunID: mv.RunID, Key: mv.Name + "/" + mv.Version,
	}, nil
}

// Fetch downloads the version's files into tmp/model.
func (r *Registered) Fetch(ctx context.Context, v Version, tmp string) (string, error) {
	uri, err := tracking.VersionLocation(ctx, r.Backend, &mlflow.ModelVersion{Name: v.Name, Version: v.Version})
	if err != nil {
		return "", err
	}
	dir := filepath.Join(tmp, tracking.ModelPath)
	if err := tracking.Download(ctx, r.Backend, uri, dir); err != nil {
		return "", fmt.Errorf("%s version %s: %w", v.Name, v.Version, err)
	}
	return dir, nil
}

// Run serves the model files of a run (runs:/RUN_ID/PATH) or of an MLflow 3
// logged model (models:/<model_id>), as `mlflow models serve -m …` does to
// try a model before registering it. Neither changes, so the key is the
// reference itself.
type Run struct {
	Backend tracking.Backend
	Ref     tracking.Ref
}

func (r *Run) String() string { return r.Ref.String() }

// Latest checks that the run, or the logged model, exists (one request).
func (r *Run) Latest(ctx context.Context) (Version, error) {
	if id := r.Ref.ModelID; id != "" {
		lm, err := r.Backend.GetLoggedModel(ctx, id)
		if err != nil {
			return Version{}, fmt.Errorf("resolve %s: %w", r.Ref, err)
		}
		return Version{Version: "logged", RunID: lm.Info.SourceRunID, Key: r.Ref.String()}, nil
	}
	if _, err := r.Backend.RunArtifactURI(ctx, r.Ref.RunID); err != nil {
		return Version{}, fmt.Errorf("resolve %s: %w", r.Ref, err)
	}
	return Version{Version: "run", RunID: r.Ref.RunID, Key: r.Ref.String()}, nil
}

// Fetch downloads the run's files at the reference's path into tmp/model.
func (r *Run) Fetch(ctx context.Context, v Version, tmp string) (string, error) {
	dir := filepath.Join(tmp, tracking.ModelPath)
	if err := tracking.Fetch(ctx, r.Backend, r.Ref, dir); err != nil {
		return "", err
	}
	return dir, nil
}

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
	"strings"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/model"
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

// Catalog is the part of a model registry a Registry source reads:
// *mlflow.Client (a tracking server) and *filestore.Store (local mode,
// ./mlruns) implement it.
type Catalog interface {
	artifact.Resolver
	GetModelVersion(ctx context.Context, name, version string) (*mlflow.ModelVersion, error)
}

// artifactStorer is a Catalog that keeps its own artifacts, as the local
// file store does; its download URIs are paths only it knows how to read.
type artifactStorer interface {
	ArtifactStore(uri string) (artifact.Store, error)
}

// NewSource returns the source for ref: a models:/ URI through the registry
// c (required then), or a local model directory.
func NewSource(ref string, c Catalog) (Source, error) {
	if mc, ok := c.(*mlflow.Client); ok && mc == nil {
		c = nil // a nil client is no registry
	}
	if strings.HasPrefix(ref, "models:/") {
		if c == nil {
			return nil, fmt.Errorf("model %s: a registry URI needs a tracking server (MLFLOW_TRACKING_URI)", ref)
		}
		m, err := artifact.ParseModelURI(ref)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", ref, err)
		}
		return &Registry{Client: c, Ref: m, uri: ref}, nil
	}
	if strings.Contains(ref, ":/") && !strings.HasPrefix(ref, "file:") {
		return nil, fmt.Errorf("model %s: want models:/NAME@ALIAS, models:/NAME/STAGE, models:/NAME/VERSION or a local directory", ref)
	}
	return &Local{Dir: strings.TrimPrefix(strings.TrimPrefix(ref, "file://"), "file:")}, nil
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

// Registry follows a models:/ reference through an MLflow registry.
type Registry struct {
	Client Catalog
	Ref    artifact.ModelRef
	uri    string
}

func (r *Registry) String() string { return r.uri }

// ModelName is the registered model followed; webhooks about other models
// are ignored.
func (r *Registry) ModelName() string { return r.Ref.Name }

// Latest asks the registry for the version of the alias or stage (one
// request), or for the fixed version.
func (r *Registry) Latest(ctx context.Context) (Version, error) {
	var mv *mlflow.ModelVersion
	var err error
	switch {
	case r.Ref.Alias != "":
		mv, err = r.Client.GetModelVersionByAlias(ctx, r.Ref.Name, r.Ref.Alias)
	case r.Ref.Stage != "":
		var vs []mlflow.ModelVersion
		vs, err = r.Client.GetLatestVersions(ctx, r.Ref.Name, r.Ref.Stage)
		if err == nil {
			if len(vs) == 0 {
				return Version{}, fmt.Errorf("resolve %s: no version in stage %s", r.uri, r.Ref.Stage)
			}
			mv = &vs[0]
		}
	default:
		mv, err = r.Client.GetModelVersion(ctx, r.Ref.Name, r.Ref.Version)
	}
	if err != nil {
		return Version{}, fmt.Errorf("resolve %s: %w", r.uri, err)
	}
	if mv.Status != "" && mv.Status != mlflow.StatusReady {
		return Version{}, fmt.Errorf("resolve %s: version %s is %s, not READY", r.uri, mv.Version, mv.Status)
	}
	return Version{
		Name: mv.Name, Version: mv.Version, Alias: r.Ref.Alias, Stage: r.Ref.Stage,
		RunID: mv.RunID, Key: mv.Name + "/" + mv.Version,
	}, nil
}

// Fetch asks for the version's download URI and downloads its files into
// tmp/model.
func (r *Registry) Fetch(ctx context.Context, v Version, tmp string) (string, error) {
	uri, err := r.Client.GetModelVersionDownloadURI(ctx, v.Name, v.Version)
	if err != nil {
		return "", fmt.Errorf("download URI of %s version %s: %w", v.Name, v.Version, err)
	}
	if strings.HasPrefix(uri, "models:/") || strings.HasPrefix(uri, "runs:/") {
		if uri, err = artifact.Resolve(ctx, r.Client, uri); err != nil {
			return "", fmt.Errorf("resolve download URI of %s version %s: %w", v.Name, v.Version, err)
		}
	}
	store, err := r.open(uri)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", uri, err)
	}
	dir := filepath.Join(tmp, "model")
	if err := store.Download(ctx, "", dir); err != nil {
		return "", fmt.Errorf("download %s version %s from %s: %w", v.Name, v.Version, uri, err)
	}
	return dir, nil
}

// open opens the artifact store at uri: the registry's own when it has one,
// else the store the URI's scheme names, with a tracking server's client for
// mlflow-artifacts: URIs.
func (r *Registry) open(uri string) (artifact.Store, error) {
	if s, ok := r.Client.(artifactStorer); ok {
		return s.ArtifactStore(uri)
	}
	c, _ := r.Client.(*mlflow.Client)
	return artifact.Open(uri, c)
}

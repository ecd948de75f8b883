package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/integrity"
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
	// Key changes whenever the content may have changed: the version (and
	// its recorded digest and signature) for a registry, a digest of
	// checksums.json (or MLmodel) for a directory.
	Key string

	// recorded holds the version's integrity tags when the answer that
	// named the version carried them (an alias or version lookup), so
	// that a load does not ask the registry again.
	recorded *Recorded
}

// Recorded is what the registry, apart from the artifact store, says a
// version's files are (see package integrity); empty fields were not
// recorded. A local directory has no registry and records nothing.
type Recorded struct {
	// Digest is the version's model_files_sha256 tag, RunDigest its run's
	// (for the run's "model" directory, when that is the version's source).
	Digest, RunDigest string
	// ModelFile and ModelSHA256: the model file and its sha256, tagged at
	// registration (model_file, model_sha256).
	ModelFile, ModelSHA256 string
	// Signature (base64), SignatureKey (key id) and Manifest (a runs:/
	// URI) are written by pipeline promote --sign-key.
	Signature, SignatureKey, Manifest string
}

// Fetched is a version's files on this machine with what the registry
// records about them.
type Fetched struct {
	Dir      string
	Recorded Recorded
}

// Source tells which model version a reference points at and fetches it.
type Source interface {
	// Latest returns the version the reference points at now. It is
	// called on every poll, so it makes one cheap request at most.
	Latest(ctx context.Context) (Version, error)
	// Fetch reads what the registry records about the version and makes
	// its files available below tmp (a fresh, empty directory the caller
	// removes when the model is replaced). The caller bounds the download
	// (artifact.WithDownloadLimit on ctx).
	Fetch(ctx context.Context, v Version, tmp string) (*Fetched, error)
	// Manifest returns the signed manifest at uri (Recorded.Manifest),
	// at most integrity.MaxManifestSize bytes, downloaded below tmp.
	Manifest(ctx context.Context, uri, tmp string) ([]byte, error)
	// String describes the reference for logs; it holds no secret.
	String() string
}

// NewSource returns the source for a model reference (tracking.ParseRef's
// grammar): a models:/ or runs:/ reference through the backend b (required
// then), or a local model directory. Only an alias or a stage can move; a
// version, a run or a directory is served as it is until a reload is asked
// for.
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
	if r.RunID != "" {
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

// Fetch copies nothing: the directory is loaded where it is. A local
// directory has no registry: nothing is recorded.
func (l *Local) Fetch(ctx context.Context, v Version, tmp string) (*Fetched, error) {
	return &Fetched{Dir: l.Dir}, nil
}

// Manifest: a local directory has no registry to hold a signature.
func (l *Local) Manifest(ctx context.Context, uri, tmp string) ([]byte, error) {
	return nil, errNoRegistry
}

var errNoRegistry = errors.New("a local directory or a run has no registry version to hold a signature")

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
	v := Version{
		Name: mv.Name, Version: mv.Version, Alias: r.Ref.Alias, Stage: r.Ref.Stage,
		RunID: mv.RunID, Key: versionKey(mv),
	}
	// An alias or version lookup answers with the whole version, tags
	// included; a stage's listing may not.
	if r.Ref.Stage == "" {
		rec := recorded(mv.Tag)
		v.recorded = &rec
	}
	return v, nil
}

// versionKey is the version, and a digest of its integrity tags when it
// has any: recording them (pipeline promote does for a version logged by
// Python, and signs) makes serve try a version it refused again.
func versionKey(mv *mlflow.ModelVersion) string {
	key := mv.Name + "/" + mv.Version
	h := sha256.New()
	any := false
	for _, k := range []string{integrity.TagFilesDigest, integrity.TagSignature} {
		v, ok := mv.Tag(k)
		any = any || ok
		io.WriteString(h, k+"="+v+"\n")
	}
	if !any {
		return key
	}
	return key + "#" + hex.EncodeToString(h.Sum(nil)[:8])
}

// Fetch reads the version's tags (and its run's digest) and downloads its
// files into tmp/model.
func (r *Registered) Fetch(ctx context.Context, v Version, tmp string) (*Fetched, error) {
	f := &Fetched{Dir: filepath.Join(tmp, tracking.ModelPath)}
	if v.recorded != nil {
		f.Recorded = *v.recorded
	} else {
		mv, err := r.Backend.GetModelVersion(ctx, v.Name, v.Version)
		if err != nil {
			return nil, fmt.Errorf("read the tags of %s version %s: %w", v.Name, v.Version, err)
		}
		f.Recorded = recorded(mv.Tag)
	}
	uri, err := tracking.VersionLocation(ctx, r.Backend, &mlflow.ModelVersion{Name: v.Name, Version: v.Version})
	if err != nil {
		return nil, err
	}
	if v.RunID != "" {
		if f.Recorded.RunDigest, err = runDigest(ctx, r.Backend, v.RunID, uri); err != nil {
			return nil, err
		}
	}
	if err := tracking.Download(ctx, r.Backend, uri, f.Dir); err != nil {
		return nil, fmt.Errorf("%s version %s: %w", v.Name, v.Version, err)
	}
	return f, nil
}

// recorded reads the integrity tags through tag (a version's Tag method).
func recorded(tag func(string) (string, bool)) Recorded {
	get := func(k string) string { v, _ := tag(k); return strings.TrimSpace(v) }
	return Recorded{
		Digest: get(integrity.TagFilesDigest), ModelFile: get(integrity.TagModelFile), ModelSHA256: get(integrity.TagModelSHA256),
		Signature: get(integrity.TagSignature), SignatureKey: get(integrity.TagSignatureKey), Manifest: get(integrity.TagManifest),
	}
}

// runDigest is the run's model_files_sha256 tag when the files at uri are
// the run's "model" directory, which the tag is about; "" otherwise.
func runDigest(ctx context.Context, b tracking.Backend, runID, uri string) (string, error) {
	run, err := b.GetRun(ctx, runID)
	if err != nil {
		return "", fmt.Errorf("read the tags of run %s: %w", runID, err)
	}
	if strings.TrimRight(uri, "/") != strings.TrimRight(run.Info.ArtifactURI, "/")+"/"+tracking.ModelPath {
		return "", nil
	}
	d, _ := run.Tag(integrity.TagFilesDigest)
	return strings.TrimSpace(d), nil
}

// Manifest downloads the manifest a signature covers (a runs:/ URI, the
// promotion run's artifact).
func (r *Registered) Manifest(ctx context.Context, uri, tmp string) ([]byte, error) {
	ref, err := tracking.ParseRef(uri)
	if err != nil || ref.RunID == "" {
		return nil, fmt.Errorf("manifest %q: want a runs:/ URI: %w", uri, integrity.ErrSignature)
	}
	dst := filepath.Join(tmp, integrity.ManifestFile)
	ctx = artifact.WithDownloadLimit(ctx, integrity.MaxManifestSize, 1)
	if err := tracking.Fetch(ctx, r.Backend, ref, dst); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", uri, err)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", uri, err)
	}
	return b, nil
}

// Run serves the model files of a run (runs:/RUN_ID/PATH), as
// `mlflow models serve -m runs:/…` does to try a model before registering
// it. A run's artifacts do not change, so its key is the reference itself.
type Run struct {
	Backend tracking.Backend
	Ref     tracking.Ref
}

func (r *Run) String() string { return r.Ref.String() }

// Latest checks that the run exists (one request).
func (r *Run) Latest(ctx context.Context) (Version, error) {
	if _, err := r.Backend.RunArtifactURI(ctx, r.Ref.RunID); err != nil {
		return Version{}, fmt.Errorf("resolve %s: %w", r.Ref, err)
	}
	return Version{Version: "run", RunID: r.Ref.RunID, Key: r.Ref.String()}, nil
}

// Fetch reads the run's digest tag (when the reference is its "model"
// directory) and downloads the files at the reference's path into
// tmp/model.
func (r *Run) Fetch(ctx context.Context, v Version, tmp string) (*Fetched, error) {
	f := &Fetched{Dir: filepath.Join(tmp, tracking.ModelPath)}
	if r.Ref.Path == tracking.ModelPath {
		run, err := r.Backend.GetRun(ctx, r.Ref.RunID)
		if err != nil {
			return nil, fmt.Errorf("read the tags of run %s: %w", r.Ref.RunID, err)
		}
		f.Recorded = recorded(run.Tag)
		f.Recorded.RunDigest, f.Recorded.Digest = f.Recorded.Digest, ""
	}
	if err := tracking.Fetch(ctx, r.Backend, r.Ref, f.Dir); err != nil {
		return nil, err
	}
	return f, nil
}

// Manifest: a run is not a registered version; promote signs versions.
func (r *Run) Manifest(ctx context.Context, uri, tmp string) ([]byte, error) {
	return nil, errNoRegistry
}

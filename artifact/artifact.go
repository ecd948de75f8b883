// Package artifact stores and fetches the files of MLflow runs and model
// versions. Open picks the store by the scheme of an artifact URI:
//
//	s3://bucket/prefix          package artifact/s3 (minio-go, straight to S3 or MinIO)
//	mlflow-artifacts:/path      package artifact/proxy (through the tracking server)
//	file:///dir, /dir, dir      package artifact/file (local files)
//
// runs:/<run_id>/<path> and models:/<name>@<alias> (or /<version>,
// /<stage>) are references, not stores: Resolve turns them into one of the
// above with the tracking server's help.
//
// The backends depend on package mlflow (for its FileInfo and, for the
// proxy, its Client); package mlflow does not depend on them.
package artifact

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/creditrisk/engine/artifact/file"
	"github.com/creditrisk/engine/artifact/internal/tree"
	"github.com/creditrisk/engine/artifact/proxy"
	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/mlflow"
)

// FileInfo describes one artifact; Path is relative to the store's root.
type FileInfo = mlflow.FileInfo

// Store reads and writes the artifacts below one root URI. Artifact paths
// are relative to that root and "/"-separated ("" is the root itself); paths
// with ".." or other non-canonical parts are refused.
//
// Errors name the step and the path; a missing artifact matches
// fs.ErrNotExist.
type Store interface {
	// URI is the root the store was opened at.
	URI() string
	// Upload stores the local file as the artifact at artifactPath (the
	// file's own path, e.g. "model/MLmodel").
	Upload(ctx context.Context, localPath, artifactPath string) error
	// UploadDir stores every file below localDir at
	// artifactPath/<path relative to localDir>. Empty directories are not
	// kept (object stores have none).
	UploadDir(ctx context.Context, localDir, artifactPath string) error
	// List returns the files and directories directly under artifactPath.
	// A missing directory, or a file, lists as empty.
	List(ctx context.Context, artifactPath string) ([]FileInfo, error)
	// Download copies the artifact at artifactPath to localPath: a file to
	// the file localPath, a directory recursively into the directory
	// localPath.
	Download(ctx context.Context, artifactPath, localPath string) error
}

var (
	_ Store = (*file.Store)(nil)
	_ Store = (*s3.Store)(nil)
	_ Store = (*proxy.Store)(nil)
)

// Open returns the store for uri. c is needed only for mlflow-artifacts:
// URIs (it may be nil otherwise); s3:// stores read their configuration
// from the environment (see package artifact/s3).
func Open(uri string, c *mlflow.Client) (Store, error) {
	scheme, _, ok := strings.Cut(uri, ":")
	if !ok || strings.ContainsAny(scheme, "/\\") || len(scheme) == 1 {
		// A plain path (one-letter "schemes" are Windows drive letters).
		return file.New(uri)
	}
	switch strings.ToLower(scheme) {
	case "s3":
		return s3.New(uri, s3.ConfigFromEnv())
	case "mlflow-artifacts":
		return proxy.New(uri, c)
	case "file":
		return file.New(uri)
	case "runs", "models":
		return nil, fmt.Errorf("artifact URI %s is a reference: resolve it with artifact.Resolve first", uri)
	}
	return nil, fmt.Errorf("artifact URI %s: scheme %q is not supported (s3, mlflow-artifacts, file)", uri, scheme)
}

// Resolver is what resolving runs:/ and models:/ references asks of a
// tracking store: *mlflow.Client (a server) and *filestore.Store (local
// mode) implement it.
type Resolver interface {
	RunArtifactURI(ctx context.Context, runID string) (string, error)
	GetModelVersionByAlias(ctx context.Context, name, alias string) (*mlflow.ModelVersion, error)
	GetLatestVersions(ctx context.Context, name string, stages ...string) ([]mlflow.ModelVersion, error)
	GetModelVersionDownloadURI(ctx context.Context, name, version string) (string, error)
}

// Resolve turns runs:/<run_id>/<path> into the run's artifact root joined
// with path, and models:/<name>@<alias>, models:/<name>/<version> or
// models:/<name>/<stage> into the version's download URI. Other URIs come
// back unchanged.
func Resolve(ctx context.Context, c Resolver, uri string) (string, error) {
	isRef := strings.HasPrefix(uri, "runs:") || strings.HasPrefix(uri, "models:")
	if isRef && c == nil {
		return "", fmt.Errorf("resolve %s: needs an MLflow client", uri)
	}
	switch {
	case strings.HasPrefix(uri, "runs:"):
		runID, p, err := ParseRunURI(uri)
		if err != nil {
			return "", err
		}
		root, err := c.RunArtifactURI(ctx, runID)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", uri, err)
		}
		return joinURI(root, p), nil
	case strings.HasPrefix(uri, "models:"):
		return resolveModel(ctx, c, uri)
	}
	return uri, nil
}

// ParseRunURI splits runs:/<run_id>/<path> into the run ID and the
// (possibly empty) artifact path.
func ParseRunURI(uri string) (runID, artifactPath string, err error) {
	if !strings.HasPrefix(uri, "runs:") {
		return "", "", fmt.Errorf("run URI %q does not start with runs:", uri)
	}
	return parseRef(uri, "runs:")
}

// parseRef splits scheme:/<first>/<rest> (also scheme:///<first>/<rest>).
func parseRef(uri, scheme string) (first, rest string, err error) {
	s := strings.TrimPrefix(uri, scheme)
	s = strings.TrimLeft(s, "/")
	first, rest, _ = strings.Cut(s, "/")
	if first == "" {
		return "", "", fmt.Errorf("artifact URI %q: want %s/<id>/<path>", uri, scheme)
	}
	rest, err = tree.Clean(rest)
	if err != nil {
		return "", "", fmt.Errorf("artifact URI %q: %w", uri, err)
	}
	return first, rest, nil
}

// ModelRef is a parsed models:/ URI: a version, a stage or an alias of a
// registered model (exactly one of the three is set).
type ModelRef struct {
	Name, Version, Stage, Alias string
}

// ParseModelURI parses models:/<name>/<version>, models:/<name>/<stage> and
// models:/<name>@<alias>.
func ParseModelURI(uri string) (ModelRef, error) {
	rest, ok := strings.CutPrefix(uri, "models:")
	if !ok {
		return ModelRef{}, fmt.Errorf("model URI %q does not start with models:", uri)
	}
	s := strings.TrimPrefix(rest, "/")
	if name, alias, ok := strings.Cut(s, "@"); ok {
		if name == "" || alias == "" || strings.ContainsAny(name, "/@") || strings.ContainsAny(alias, "/@") {
			return ModelRef{}, fmt.Errorf("model URI %q: want models:/<name>@<alias>", uri)
		}
		return ModelRef{Name: name, Alias: alias}, nil
	}
	name, ref, _ := strings.Cut(s, "/")
	if name == "" || ref == "" || strings.Contains(ref, "/") {
		return ModelRef{}, fmt.Errorf("model URI %q: want models:/<name>/<version or stage> or models:/<name>@<alias>", uri)
	}
	if _, err := strconv.ParseUint(ref, 10, 63); err == nil {
		return ModelRef{Name: name, Version: ref}, nil
	}
	return ModelRef{Name: name, Stage: ref}, nil
}

func resolveModel(ctx context.Context, c Resolver, uri string) (string, error) {
	ref, err := ParseModelURI(uri)
	if err != nil {
		return "", err
	}
	version := ref.Version
	switch {
	case ref.Alias != "":
		mv, err := c.GetModelVersionByAlias(ctx, ref.Name, ref.Alias)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", uri, err)
		}
		version = mv.Version
	case ref.Stage != "":
		vs, err := c.GetLatestVersions(ctx, ref.Name, ref.Stage)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", uri, err)
		}
		if len(vs) == 0 {
			return "", fmt.Errorf("resolve %s: no version of model %q in stage %s: %w", uri, ref.Name, ref.Stage, mlflow.ErrNotFound)
		}
		version = vs[0].Version
	}
	u, err := c.GetModelVersionDownloadURI(ctx, ref.Name, version)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", uri, err)
	}
	if strings.HasPrefix(u, "models:") || strings.HasPrefix(u, "runs:") {
		return "", fmt.Errorf("resolve %s: the server answered the reference %s: %w", uri, u, errors.ErrUnsupported)
	}
	return u, nil
}

// joinURI appends a relative artifact path to a root URI.
func joinURI(root, p string) string {
	if p == "" {
		return root
	}
	return strings.TrimRight(root, "/") + "/" + p
}

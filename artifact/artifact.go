// Package artifact stores and fetches the files of MLflow runs and model
// versions. Open picks the store by the scheme of an artifact URI:
//
//	s3://bucket/prefix          package artifact/s3 (minio-go, straight to S3 or MinIO)
//	mlflow-artifacts:/path      package artifact/proxy (through the tracking server)
//	file:///dir, /dir, dir      package artifact/file (local files)
//
// runs:/<run_id>/<path> and models:/<name>@<alias> (or /<version>,
// /<stage>) are references, not stores: package tracking resolves them into
// one of the above through a tracking backend.
//
// Configuration comes in through Config (the command line reads it from the
// environment); the stores read no environment themselves. The stores
// depend on package mlflow (for its FileInfo and, for the proxy, its
// Client); package mlflow does not depend on them.
package artifact

import (
	"context"
	"fmt"
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

// Config is what opening a store may need besides its URI.
type Config struct {
	// S3 reaches s3:// stores.
	S3 s3.Config
	// Proxy is the tracking server's client, which serves mlflow-artifacts:
	// URIs; nil refuses them.
	Proxy *mlflow.Client
}

// Open returns the store for uri.
func Open(uri string, cfg Config) (Store, error) {
	scheme, _, ok := strings.Cut(uri, ":")
	if !ok || strings.ContainsAny(scheme, "/\\") || len(scheme) == 1 {
		// A plain path (one-letter "schemes" are Windows drive letters).
		return file.New(uri)
	}
	switch strings.ToLower(scheme) {
	case "s3":
		return s3.New(uri, cfg.S3)
	case "mlflow-artifacts":
		return proxy.New(uri, cfg.Proxy)
	case "file":
		return file.New(uri)
	case "runs", "models":
		return nil, fmt.Errorf("artifact URI %s is a model reference: resolve it through the tracking backend first", uri)
	}
	return nil, fmt.Errorf("artifact URI %s: scheme %q is not supported (s3, mlflow-artifacts, file)", uri, scheme)
}

// ErrTooLarge is wrapped by a Download that went past the limit of
// WithDownloadLimit.
var ErrTooLarge = tree.ErrTooLarge

// WithDownloadLimit returns a context under which the Download calls of
// every store write at most maxBytes and maxFiles files in all (0: no
// limit of that kind); past it Download fails with an error wrapping
// ErrTooLarge and removes the file it was writing. The limit holds
// against a store that lies about sizes: it counts the bytes received.
// serve bounds each model download with it.
func WithDownloadLimit(ctx context.Context, maxBytes int64, maxFiles int) context.Context {
	return tree.WithLimit(ctx, maxBytes, maxFiles)
}

// CleanPath checks an artifact path (relative, "/"-separated) and returns
// it without leading or trailing slashes; paths that would climb out of
// the root or are not canonical are refused, as the MLflow server refuses
// them.
func CleanPath(p string) (string, error) { return tree.Clean(p) }

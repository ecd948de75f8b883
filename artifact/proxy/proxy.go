// Package proxy is the artifact store for mlflow-artifacts: URIs: the
// tracking server ("mlflow server --serve-artifacts") stores the files in
// its --artifacts-destination and the client needs only the tracking URI
// and its credentials, as MLflow's MlflowArtifactsRepository.
//
// mlflow-artifacts:/1/<run>/artifacts maps to
// {tracking URI}/api/2.0/mlflow-artifacts/artifacts/1/<run>/artifacts/...
package proxy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/creditrisk/engine/artifact/internal/tree"
	"github.com/creditrisk/engine/mlflow"
)

// ParseURI returns the host ("" when the URI names none) and the path below
// the artifact destination of an mlflow-artifacts: URI.
func ParseURI(uri string) (host, root string, err error) {
	if !strings.HasPrefix(uri, "mlflow-artifacts:") {
		return "", "", fmt.Errorf("artifact URI %q does not start with mlflow-artifacts:", uri)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", "", fmt.Errorf("artifact URI %q: %w", uri, err)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", fmt.Errorf("artifact URI %q: user information, query strings and fragments are not supported", uri)
	}
	p := u.Path
	if p == "" {
		p = u.Opaque
	}
	root, err = tree.Clean(p)
	if err != nil {
		return "", "", fmt.Errorf("artifact URI %q: %w", uri, err)
	}
	return u.Host, root, nil
}

// Store keeps artifacts below a path of the tracking server's artifact
// destination.
type Store struct {
	uri  string
	c    *mlflow.Client
	root string
}

// New opens the store at uri through the tracking server of c. A URI that
// names a host (mlflow-artifacts://host:port/path) must name c's host:
// this client holds credentials for that server only.
func New(uri string, c *mlflow.Client) (*Store, error) {
	if c == nil {
		return nil, fmt.Errorf("artifact URI %s: mlflow-artifacts: needs an MLflow client", uri)
	}
	host, root, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	if host != "" {
		t, err := url.Parse(c.TrackingURI())
		if err != nil || t.Host != host {
			return nil, fmt.Errorf("artifact URI %s names server %s, but the client talks to %s", uri, host, c.TrackingURI())
		}
	}
	return &Store{uri: uri, c: c, root: root}, nil
}

// URI is the URI the store was opened at.
func (s *Store) URI() string { return s.uri }

// path returns the clean artifact path and its path below the destination.
func (s *Store) path(artifactPath string) (string, string, error) {
	p, err := tree.Clean(artifactPath)
	if err != nil {
		return "", "", err
	}
	return p, tree.Join(s.root, p), nil
}

// Upload sends the local file to artifactPath (the file's own path in the
// store, e.g. "model/MLmodel").
func (s *Store) Upload(ctx context.Context, localPath, artifactPath string) error {
	p, full, err := s.path(artifactPath)
	if err != nil {
		return fmt.Errorf("upload %s: %w", localPath, err)
	}
	if p == "" {
		return fmt.Errorf("upload %s: empty artifact path", localPath)
	}
	f, err := os.Open(localPath)
	if err != nil {
		return fmt.Errorf("upload %s: %w", p, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.IsDir() {
		return fmt.Errorf("upload %s: %s is a directory or unreadable (%v)", p, localPath, err)
	}
	if err := s.c.UploadProxyArtifact(ctx, full, f, tree.ContentType(p)); err != nil {
		return fmt.Errorf("upload %s: %w", p, err)
	}
	return nil
}

// uploads is how many files UploadDir sends at once: fewer than for S3,
// as each one occupies a worker of the tracking server (a handful by
// default) while it streams the file on to the artifact destination.
const uploads = 4

// UploadDir sends the files below localDir to artifactPath/<relative path>,
// several at once. When one fails, no further upload starts and the error
// names the first failed file in path order; files beside it may be stored.
func (s *Store) UploadDir(ctx context.Context, localDir, artifactPath string) error {
	p, _, err := s.path(artifactPath)
	if err != nil {
		return fmt.Errorf("upload %s: %w", localDir, err)
	}
	return tree.UploadAll(localDir, p, uploads, func(local, dst string) error {
		return s.Upload(ctx, local, dst)
	})
}

// List returns the entries directly under artifactPath, with paths relative
// to the store's root.
func (s *Store) List(ctx context.Context, artifactPath string) ([]mlflow.FileInfo, error) {
	p, full, err := s.path(artifactPath)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", artifactPath, err)
	}
	files, err := s.c.ListProxyArtifacts(ctx, full)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", p, err)
	}
	for i := range files {
		rel, ok := tree.Rel(s.root, files[i].Path)
		if !ok {
			return nil, fmt.Errorf("list %s: server returned %q outside %s", p, files[i].Path, s.root)
		}
		files[i].Path = rel
	}
	return files, nil
}

// Download copies the artifact at artifactPath to localPath: a file to the
// file localPath, a directory recursively into the directory localPath.
// A missing artifact gives an error matching fs.ErrNotExist.
func (s *Store) Download(ctx context.Context, artifactPath, localPath string) error {
	p, _, err := s.path(artifactPath)
	if err != nil {
		return fmt.Errorf("download %s: %w", artifactPath, err)
	}
	// Directories list their entries; files (and missing paths) list as
	// empty.
	entries, err := s.List(ctx, p)
	if err != nil {
		return fmt.Errorf("download %s: %w", p, err)
	}
	if len(entries) > 0 {
		return s.downloadDir(ctx, p, entries, localPath)
	}
	if p == "" {
		return fmt.Errorf("download %s: the artifact root is empty: %w", s.uri, fs.ErrNotExist)
	}
	// A file, or nothing: the servers answer a GET of a missing file with
	// a retried 500 INTERNAL_ERROR, so look the file up in its directory
	// first.
	parent, _ := path.Split(p)
	siblings, err := s.List(ctx, strings.TrimSuffix(parent, "/"))
	if err != nil {
		return fmt.Errorf("download %s: %w", p, err)
	}
	for _, f := range siblings {
		if f.Path == p && !f.IsDir {
			return s.get(ctx, p, localPath)
		}
	}
	return fmt.Errorf("download %s (%s): %w", p, s.uri, fs.ErrNotExist)
}

func (s *Store) downloadDir(ctx context.Context, dir string, entries []mlflow.FileInfo, localDir string) error {
	for _, e := range entries {
		rel, ok := tree.Rel(dir, e.Path)
		if !ok || rel == "" {
			return fmt.Errorf("download %s: entry %q is not below it", dir, e.Path)
		}
		dst, err := tree.Target(localDir, rel)
		if err != nil {
			return fmt.Errorf("download %s: %w", e.Path, err)
		}
		if !e.IsDir {
			if err := s.get(ctx, e.Path, dst); err != nil {
				return err
			}
			continue
		}
		sub, err := s.List(ctx, e.Path)
		if err != nil {
			return fmt.Errorf("download %s: %w", e.Path, err)
		}
		if err := os.MkdirAll(dst, 0o777); err != nil {
			return fmt.Errorf("download %s: %w", e.Path, err)
		}
		if err := s.downloadDir(ctx, e.Path, sub, dst); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) get(ctx context.Context, p, dst string) error {
	body, err := s.c.DownloadProxyArtifact(ctx, tree.Join(s.root, p))
	if err != nil {
		if errors.Is(err, mlflow.ErrNotFound) || errors.Is(err, mlflow.ErrEndpointNotFound) {
			err = fmt.Errorf("%w: %w", fs.ErrNotExist, err)
		}
		return fmt.Errorf("download %s: %w", p, err)
	}
	defer body.Close()
	r, err := tree.Limit(ctx, body)
	if err != nil {
		return fmt.Errorf("download %s: %w", p, err)
	}
	if err := tree.WriteFile(dst, r, 0o666); err != nil {
		return fmt.Errorf("download %s: %w", p, err)
	}
	return nil
}

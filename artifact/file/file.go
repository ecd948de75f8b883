// Package file is the artifact store for file: URIs and plain local paths,
// as MLflow's LocalArtifactRepository: the artifacts are files below a root
// directory on this machine.
package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/creditrisk/engine/artifact/internal/tree"
	"github.com/creditrisk/engine/mlflow"
)

// Store keeps artifacts below a local directory.
type Store struct {
	uri  string
	root string
}

// New opens the store at uri: "file:///abs/dir", "file:/abs/dir",
// "file://localhost/abs/dir" or a plain path (relative paths are taken
// from the working directory). The directory need not exist yet.
func New(uri string) (*Store, error) {
	root, err := Dir(uri)
	if err != nil {
		return nil, err
	}
	return &Store{uri: uri, root: root}, nil
}

// Dir returns the local directory that a file: URI or plain path names.
func Dir(uri string) (string, error) {
	if uri == "" {
		return "", errors.New("file store: empty URI")
	}
	if !strings.HasPrefix(uri, "file:") {
		return filepath.Clean(uri), nil
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("file store: %w", err)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("file store: %s names host %q; only local files are supported", uri, u.Host)
	}
	p := u.Path
	if p == "" {
		p = u.Opaque // file:relative/dir
	}
	if p == "" {
		return "", fmt.Errorf("file store: %s names no directory", uri)
	}
	return filepath.Clean(filepath.FromSlash(p)), nil
}

// URI is the URI the store was opened at.
func (s *Store) URI() string { return s.uri }

// Root is the local directory of the store.
func (s *Store) Root() string { return s.root }

func (s *Store) local(artifactPath string) (string, string, error) {
	p, err := tree.Clean(artifactPath)
	if err != nil {
		return "", "", err
	}
	return p, filepath.Join(s.root, filepath.FromSlash(p)), nil
}

// Upload copies the local file to artifactPath (the file's own path in the
// store, e.g. "model/MLmodel").
func (s *Store) Upload(ctx context.Context, localPath, artifactPath string) error {
	p, dst, err := s.local(artifactPath)
	if err != nil {
		return fmt.Errorf("upload %s: %w", localPath, err)
	}
	if p == "" {
		return fmt.Errorf("upload %s: empty artifact path", localPath)
	}
	if err := copyFile(ctx, localPath, dst); err != nil {
		return fmt.Errorf("upload %s: %w", p, err)
	}
	return nil
}

// uploads is how many files UploadDir copies at once (a network file
// system answers each write slowly; a local disk hardly minds).
const uploads = 4

// UploadDir copies the files below localDir to artifactPath/<relative path>,
// several at once. When one fails, no further copy starts and the error
// names the first failed file in path order; files beside it may be copied.
func (s *Store) UploadDir(ctx context.Context, localDir, artifactPath string) error {
	p, _, err := s.local(artifactPath)
	if err != nil {
		return fmt.Errorf("upload %s: %w", localDir, err)
	}
	return tree.UploadAll(localDir, p, uploads, func(local, dst string) error {
		return s.Upload(ctx, local, dst)
	})
}

// List returns the entries directly under artifactPath, with paths relative
// to the store's root, sorted. A missing directory lists as empty, as in
// MLflow; a file lists as nothing.
func (s *Store) List(ctx context.Context, artifactPath string) ([]mlflow.FileInfo, error) {
	p, dir, err := s.local(artifactPath)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", artifactPath, err)
	}
	if st, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) || (err == nil && !st.IsDir()) {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", p, err)
	}
	var out []mlflow.FileInfo
	for _, e := range entries {
		info, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", p, err)
		}
		fi := mlflow.FileInfo{Path: tree.Join(p, e.Name()), IsDir: info.IsDir()}
		if !fi.IsDir {
			fi.Size = info.Size()
		}
		out = append(out, fi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Download copies the artifact at artifactPath to localPath: a file to the
// file localPath, a directory recursively into the directory localPath.
// A missing artifact gives an error matching fs.ErrNotExist.
func (s *Store) Download(ctx context.Context, artifactPath, localPath string) error {
	p, src, err := s.local(artifactPath)
	if err != nil {
		return fmt.Errorf("download %s: %w", artifactPath, err)
	}
	info, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("download %s: %w", p, err)
	}
	if !info.IsDir() {
		if err := copyFile(ctx, src, localPath); err != nil {
			return fmt.Errorf("download %s: %w", p, err)
		}
		return nil
	}
	files, err := tree.Files(src)
	if err != nil {
		return fmt.Errorf("download %s: %w", p, err)
	}
	if err := os.MkdirAll(localPath, 0o777); err != nil {
		return fmt.Errorf("download %s: %w", p, err)
	}
	for _, f := range files {
		dst, err := tree.Target(localPath, f.Rel)
		if err != nil {
			return fmt.Errorf("download %s: %w", tree.Join(p, f.Rel), err)
		}
		if err := copyFile(ctx, f.Path, dst); err != nil {
			return fmt.Errorf("download %s: %w", tree.Join(p, f.Rel), err)
		}
	}
	return nil
}

func copyFile(ctx context.Context, src, dst string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s: %w", src, tree.ErrIsDir)
	}
	r, err := tree.Limit(ctx, f)
	if err != nil {
		return err
	}
	// The copy is as private as the original: a holdout of applicants'
	// rows (0640) does not become world-readable in the store.
	return tree.WriteFile(dst, r, st.Mode().Perm()&0o666)
}

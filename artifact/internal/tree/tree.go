// Package tree holds what the artifact stores share: checking artifact
// paths, walking a local directory to upload it, writing downloaded files
// safely below a local directory, and content types.
package tree

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/creditrisk/engine/internal/fanout"
	"github.com/creditrisk/engine/internal/tempfile"
)

// Clean checks an artifact path (relative, "/"-separated, e.g.
// "model/MLmodel") and returns it without leading or trailing slashes;
// "" (or ".") is the store's root. Paths that would climb out of the root ("..")
// or are not in canonical form ("a//b", "a/./b") are refused, as the MLflow
// server refuses them.
func Clean(p string) (string, error) {
	q := strings.Trim(p, "/")
	if q == "" || q == "." {
		return "", nil
	}
	if strings.ContainsRune(q, 0) {
		return "", fmt.Errorf("artifact path %q contains a NUL byte", p)
	}
	if path.Clean(q) != q {
		return "", fmt.Errorf("artifact path %q is not a clean relative path", p)
	}
	if q == ".." || strings.HasPrefix(q, "../") {
		return "", fmt.Errorf("artifact path %q climbs out of the artifact root", p)
	}
	return q, nil
}

// Join joins "/"-separated path parts, skipping empty ones.
func Join(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p = strings.Trim(p, "/"); p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, "/")
}

// Rel returns p relative to dir ("" when p == dir), or false when p is not
// below dir. Both are clean "/"-separated paths.
func Rel(dir, p string) (string, bool) {
	if dir == "" {
		return p, true
	}
	if p == dir {
		return "", true
	}
	if rest, ok := strings.CutPrefix(p, dir+"/"); ok {
		return rest, true
	}
	return "", false
}

// File is one regular file found below a local directory.
type File struct {
	Rel  string // "/"-separated path relative to the directory
	Path string // local path
	Size int64
}

// Files lists the regular files below dir (symbolic links to regular files
// included), sorted by path. Empty directories have no files and so are not
// uploaded: object stores have no directories. Anything else (sockets,
// devices, links to directories) is an error rather than silently skipped.
func Files(dir string) ([]File, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	var files []File
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := os.Stat(p) // follows links
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file (mode %s)", p, info.Mode())
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, File{Rel: filepath.ToSlash(rel), Path: p, Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, nil
}

// Target is where the artifact at rel (relative to a downloaded directory)
// goes below the local directory root. Names that would escape root (a
// hostile store can list "../x") are refused.
func Target(root, rel string) (string, error) {
	local := filepath.FromSlash(rel)
	if !filepath.IsLocal(local) {
		return "", fmt.Errorf("artifact %q would be written outside %s", rel, root)
	}
	return filepath.Join(root, local), nil
}

// WriteFile writes r to the file at target with perm (less the umask),
// creating its directory. The data go to a temporary file first, so an
// interrupted download never leaves a truncated file under the final name.
func WriteFile(target string, r io.Reader, perm os.FileMode) (err error) {
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	tmp, err := tempfile.Create(dir, "."+filepath.Base(target)+".part-", perm)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, r); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// contentTypes covers names that the system's MIME table may not know.
var contentTypes = map[string]string{
	".json": "application/json",
	".yaml": "application/yaml",
	".yml":  "application/yaml",
	".txt":  "text/plain; charset=utf-8",
	".csv":  "text/csv; charset=utf-8",
	".lgb":  "text/plain; charset=utf-8", // LightGBM's text model format
	".png":  "image/png",
	".html": "text/html; charset=utf-8",
	".md":   "text/markdown; charset=utf-8",
}

// ContentType guesses the content type of an artifact from its name.
func ContentType(name string) string {
	base := path.Base(filepath.ToSlash(name))
	if base == "MLmodel" {
		return "application/yaml"
	}
	ext := strings.ToLower(path.Ext(base))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// ErrIsDir is returned when a file operation meets a directory.
var ErrIsDir = errors.New("is a directory")

// UploadAll calls upload for every file below localDir with the artifact
// path prefix/<its path relative to localDir>, par at a time (see
// fanout.Each: after a failure no upload starts, and the error is that of
// the first failed file in path order). It is every store's UploadDir.
func UploadAll(localDir, prefix string, par int, upload func(localPath, artifactPath string) error) error {
	files, err := Files(localDir)
	if err != nil {
		return fmt.Errorf("upload %s: %w", localDir, err)
	}
	return fanout.Each(len(files), par, func(i int) error {
		return upload(files[i].Path, Join(prefix, files[i].Rel))
	})
}

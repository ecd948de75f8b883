package artifact_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/mlflow"
)

// suffix makes names unique per test run.
func suffix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// sample is the directory every store gets to upload: nested directories,
// an empty file, a name with a space and non-ASCII letters, a binary file
// over one MiB.
var sample = map[string][]byte{
	"MLmodel":                []byte("flavors:\n  python_function: {}\n"),
	"model.lgb":              []byte("tree\nversion=v4\n"),
	"empty.bin":              {},
	"data/schema.json":       []byte(`{"columns": []}`),
	"data/deep/naïve b.txt":  []byte("spaces and ü"),
	"data/deep/weights.bin":  randomBytes(1<<20 + 123),
	"data/deep/z-last.csv":   []byte("a,b\n1,2\n"),
	"conda.yaml":             []byte("name: mlflow-env\n"),
	"extra.dir/file.with.do": []byte("dots"),
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func writeTree(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for rel, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readTree reads every regular file below dir.
func readTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	got := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		got[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sameTree(t testing.TB, got, want map[string][]byte) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("missing %s", k)
			continue
		}
		if !bytes.Equal(g, w) {
			t.Errorf("%s: got %d bytes, want %d (contents differ)", k, len(g), len(w))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected file %s", k)
		}
	}
}

// names gives "path" or "path/" (directories) with sizes of files.
func names(files []artifact.FileInfo) []string {
	var out []string
	for _, f := range files {
		if f.IsDir {
			out = append(out, f.Path+"/")
		} else {
			out = append(out, fmt.Sprintf("%s:%d", f.Path, f.Size))
		}
	}
	slices.Sort(out)
	return out
}

// size is the listing entry of a sample file uploaded under "model".
func size(rel string) string { return fmt.Sprintf("model/%s:%d", rel, len(sample[rel])) }

// exercise runs the same checks on any store: upload a directory under
// "model" and a single file, list at several depths, download a directory
// and a file and compare the bytes, and the errors for missing and bad
// paths.
func exercise(t *testing.T, st artifact.Store) {
	ctx := t.Context()
	src := t.TempDir()
	writeTree(t, src, sample)
	if err := st.UploadDir(ctx, src, "model"); err != nil {
		t.Fatalf("UploadDir: %v", err)
	}
	one := filepath.Join(t.TempDir(), "note.txt")
	if err := os.WriteFile(one, []byte("single"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.Upload(ctx, one, "notes/n1.txt"); err != nil {
		t.Fatalf("Upload: %v", err)
	}

	for _, tt := range []struct {
		dir  string
		want []string
	}{
		{"", []string{"model/", "notes/"}},
		{"model", []string{size("MLmodel"), size("conda.yaml"), "model/data/", size("empty.bin"), "model/extra.dir/", size("model.lgb")}},
		{"model/data/deep", []string{size("data/deep/naïve b.txt"), size("data/deep/weights.bin"), size("data/deep/z-last.csv")}},
		{"notes", []string{"notes/n1.txt:6"}},
		{"missing", nil},
		{"model/MLmodel", nil},
	} {
		got, err := st.List(ctx, tt.dir)
		if err != nil {
			t.Errorf("List(%q): %v", tt.dir, err)
			continue
		}
		if !slices.Equal(names(got), tt.want) {
			t.Errorf("List(%q) = %q, want %q", tt.dir, names(got), tt.want)
		}
	}

	dst := filepath.Join(t.TempDir(), "down")
	if err := st.Download(ctx, "model", dst); err != nil {
		t.Fatalf("Download(model): %v", err)
	}
	sameTree(t, readTree(t, dst), sample)

	sub := filepath.Join(t.TempDir(), "deep")
	if err := st.Download(ctx, "model/data/deep", sub); err != nil {
		t.Fatalf("Download(model/data/deep): %v", err)
	}
	sameTree(t, readTree(t, sub), map[string][]byte{
		"naïve b.txt": sample["data/deep/naïve b.txt"], "weights.bin": sample["data/deep/weights.bin"], "z-last.csv": sample["data/deep/z-last.csv"],
	})

	f := filepath.Join(t.TempDir(), "w.bin")
	if err := st.Download(ctx, "model/data/deep/weights.bin", f); err != nil {
		t.Fatalf("Download(file): %v", err)
	}
	if b, _ := os.ReadFile(f); !bytes.Equal(b, sample["data/deep/weights.bin"]) {
		t.Error("downloaded weights.bin differs")
	}
	if err := st.Download(ctx, "model/empty.bin", f); err != nil {
		t.Fatalf("Download(empty file): %v", err)
	}
	if b, err := os.ReadFile(f); err != nil || len(b) != 0 {
		t.Errorf("empty.bin read back %d bytes, %v", len(b), err)
	}

	// Downloads within a limit: the whole directory fits exactly, one
	// byte or one file less does not, whatever size the store reports.
	var total int64
	for _, b := range sample {
		total += int64(len(b))
	}
	for _, tc := range []struct {
		bytes int64
		files int
		ok    bool
	}{
		{total, len(sample), true},
		{total - 1, 0, false},
		{0, len(sample) - 1, false},
	} {
		lctx := artifact.WithDownloadLimit(ctx, tc.bytes, tc.files)
		err := st.Download(lctx, "model", filepath.Join(t.TempDir(), "limited"))
		if tc.ok && err != nil {
			t.Errorf("Download within %d bytes, %d files: %v", tc.bytes, tc.files, err)
		}
		if !tc.ok && !errors.Is(err, artifact.ErrTooLarge) {
			t.Errorf("Download past %d bytes, %d files: %v, want ErrTooLarge", tc.bytes, tc.files, err)
		}
	}

	err := st.Download(ctx, "model/nope.txt", filepath.Join(t.TempDir(), "x"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Download(missing) = %v, want fs.ErrNotExist", err)
	} else if !strings.Contains(err.Error(), "nope.txt") {
		t.Errorf("Download(missing) error does not name the path: %v", err)
	}
	if err := st.Upload(ctx, one, "../escape.txt"); err == nil {
		t.Error("Upload(../escape.txt): no error")
	}
	if _, err := st.List(ctx, "model/../.."); err == nil {
		t.Error("List(model/../..): no error")
	}
	if err := st.Upload(ctx, filepath.Join(src, "missing"), "x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Upload(missing local file) = %v, want fs.ErrNotExist", err)
	}
}

func TestFileStore(t *testing.T) {
	root := t.TempDir()
	st, err := open("file://"+root, nil)
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, st)
	// The files are really where a LocalArtifactRepository would put them.
	if b, err := os.ReadFile(filepath.Join(root, "model", "data", "schema.json")); err != nil || string(b) != `{"columns": []}` {
		t.Errorf("file on disk: %q, %v", b, err)
	}
}

func TestOpen(t *testing.T) {
	c, err := mlflow.NewClient("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		uri, want string // want: Go type of the store, or "error"
		client    *mlflow.Client
	}{
		{"s3://bucket/1/abc/artifacts", "*s3.Store", nil},
		{"s3://bucket", "*s3.Store", nil},
		{"s3:///nobucket", "error", nil},
		{"mlflow-artifacts:/1/abc/artifacts", "*proxy.Store", c},
		{"mlflow-artifacts://127.0.0.1:1/1/abc", "*proxy.Store", c},
		{"mlflow-artifacts://elsewhere:5000/1/abc", "error", c},
		{"mlflow-artifacts:/1/abc", "error", nil},
		{"mlflow-artifacts:/1/../abc", "error", c},
		{"file:///tmp/x", "*file.Store", nil},
		{"file:/tmp/x", "*file.Store", nil},
		{"file://remote/tmp/x", "error", nil},
		{"/tmp/x", "*file.Store", nil},
		{"relative/dir", "*file.Store", nil},
		{"runs:/abc/model", "error", nil},
		{"models:/m@champion", "error", nil},
		{"gs://bucket/x", "error", nil},
		{"", "error", nil},
	} {
		st, err := open(tt.uri, tt.client)
		got := "error"
		if err == nil {
			got = fmt.Sprintf("%T", st)
		}
		if got != tt.want {
			t.Errorf("Open(%q) = %s (%v), want %s", tt.uri, got, err, tt.want)
		}
	}
}

// open opens a store as a command would: S3 configured from the stack's
// environment, c (if any) the tracking server's client for proxy URIs.
func open(uri string, c *mlflow.Client) (artifact.Store, error) {
	return artifact.Open(uri, artifact.Config{S3: s3.EnvConfig(os.Getenv), Proxy: c})
}

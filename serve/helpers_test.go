package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/integrity"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/model"
)

// trained caches tiny gbdt models by number of iterations: versions that
// differ in iterations give different probabilities for the same row.
var (
	trainMu sync.Mutex
	trained = map[int]model.Model{}
)

func table(t testing.TB) *data.Table {
	t.Helper()
	tb, err := data.Default()
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func tinyModel(t testing.TB, iters int) model.Model {
	t.Helper()
	trainMu.Lock()
	defer trainMu.Unlock()
	if m, ok := trained[iters]; ok {
		return m
	}
	m, err := model.Train(context.Background(), model.FamilyGBDT, table(t), nil, model.TrainOptions{Params: map[string]string{
		"num_iterations": strconv.Itoa(iters), "num_leaves": "7", "learning_rate": "0.2", "min_data_in_leaf": "20",
	}})
	if err != nil {
		t.Fatal(err)
	}
	trained[iters] = m
	return m
}

// writeModel saves a model directory like the train flow does: the model,
// an input example, reference_profile.json, and checksums.json over all.
func writeModel(t testing.TB, dir string, iters int, runID string) string {
	t.Helper()
	m := tinyModel(t, iters)
	tb := table(t)
	if err := model.Save(dir, m, model.SaveOptions{RunID: runID, ArtifactPath: "model", Example: tb.Matrix([]int{0, 1, 2})}); err != nil {
		t.Fatal(err)
	}
	prof := data.NewProfile(tb)
	scores, err := m.Predict(tb.Matrix(nil))
	if err != nil {
		t.Fatal(err)
	}
	h := data.NewHistogram("score", scores, 10)
	prof.Score = &h
	b, err := json.Marshal(prof)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, model.ProfileFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	rewriteChecksums(t, dir)
	return dir
}

// rewriteChecksums lists every file but checksums.json with its sha256.
func rewriteChecksums(t testing.TB, dir string) {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == model.ChecksumsFile {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"algorithm": "sha256", "files": files})
	if err := os.WriteFile(filepath.Join(dir, model.ChecksumsFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := model.Verify(dir); err != nil {
		t.Fatal(err)
	}
}

// registrationTags are the tags train writes on a version at registration:
// the digest of every file of dir, and the model file's sha256.
func registrationTags(t testing.TB, dir string) []mlflow.Tag {
	t.Helper()
	files, err := integrity.HashDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return []mlflow.Tag{
		{Key: integrity.TagFilesDigest, Value: integrity.Digest(files)},
		{Key: integrity.TagModelFile, Value: "model.lgb"},
		{Key: integrity.TagModelSHA256, Value: files["model.lgb"]},
	}
}

// corrupt changes a model file after checksums.json was written.
func corrupt(t testing.TB, dir string) {
	t.Helper()
	p := filepath.Join(dir, model.ServingExampleFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(b, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeSource serves local directories as registry versions; set moves the
// "alias". fail makes Latest fail, like a registry that is down. What the
// registry recorded of a version is recorded[version], or without an entry
// the digest of its directory as it is when fetched (as if registered just
// then); manifests holds signed manifests by URI.
type fakeSource struct {
	mu        sync.Mutex
	dirs      map[string]string // version -> dir
	recorded  map[string]Recorded
	manifests map[string][]byte
	cur       string
	fail      error
}

func (f *fakeSource) String() string { return "models:/fake@champion" }

func (f *fakeSource) ModelName() string { return "fake" }

func (f *fakeSource) set(version string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur = version
}

func (f *fakeSource) Latest(ctx context.Context) (Version, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return Version{}, f.fail
	}
	return Version{Name: "fake", Version: f.cur, Alias: "champion", RunID: "run" + f.cur, Key: "fake/" + f.cur}, nil
}

func (f *fakeSource) Fetch(ctx context.Context, v Version, tmp string) (*Fetched, error) {
	f.mu.Lock()
	dir, ok := f.dirs[v.Version]
	rec, recOK := f.recorded[v.Version]
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("version %s: %w", v.Version, fs.ErrNotExist)
	}
	if !recOK {
		files, err := integrity.HashDir(dir)
		if err != nil {
			return nil, err
		}
		rec.Digest = integrity.Digest(files)
	}
	return &Fetched{Dir: dir, Recorded: rec}, nil
}

func (f *fakeSource) Manifest(ctx context.Context, uri, tmp string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.manifests[uri]
	if !ok {
		return nil, fmt.Errorf("manifest %s: %w", uri, fs.ErrNotExist)
	}
	return b, nil
}

// record sets what the registry recorded of version: the digest of dir as
// it is now, as train does at registration.
func (f *fakeSource) record(t testing.TB, version, dir string) Recorded {
	t.Helper()
	files, err := integrity.HashDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.recorded == nil {
		f.recorded = map[string]Recorded{}
	}
	r := Recorded{Digest: integrity.Digest(files), ModelFile: "model.lgb", ModelSHA256: files["model.lgb"]}
	f.recorded[version] = r
	return r
}

func newServer(t testing.TB, src Source, opts Options) (*Server, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	if opts.WorkDir == "" {
		opts.WorkDir = t.TempDir()
	}
	s, err := New(src, reg, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, reg
}

// loaded returns a server with version "1" (10 iterations) loaded.
func loaded(t testing.TB, opts Options) (*Server, *prometheus.Registry, *fakeSource) {
	t.Helper()
	src := &fakeSource{dirs: map[string]string{"1": writeModel(t, t.TempDir(), 10, "run1")}, cur: "1"}
	s, reg := newServer(t, src, opts)
	if _, err := s.Reload(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	return s, reg, src
}

func do(t testing.TB, h http.Handler, method, path, ctype, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewBufferString(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func record(t testing.TB, i int) map[string]any { return table(t).Record(i) }

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decode[T any](t testing.TB, r io.Reader) T {
	t.Helper()
	var v T
	if err := json.NewDecoder(r).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

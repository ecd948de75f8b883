package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/integrity"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/model/lgbm"
	"github.com/creditrisk/engine/tracking"
)

// swapModelFile replaces dir's model.lgb with that of another model (of
// the same features, so that it loads and answers), as an attacker with
// write access to the artifact bucket would.
func swapModelFile(t testing.TB, dir string) {
	t.Helper()
	other := writeModel(t, t.TempDir(), 40, "attacker")
	b, err := os.ReadFile(filepath.Join(other, lgbm.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, lgbm.FileName), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// served checks that the server answers row 0 from version v with the
// probability want.
func served(t *testing.T, s *Server, v string, want float64) {
	t.Helper()
	w := do(t, s.Handler(), "POST", "/predict", ctJSON, mustJSON(t, record(t, 0)))
	if w.Code != 200 {
		t.Fatalf("/predict: %d %s", w.Code, w.Body)
	}
	got := decode[PredictResponse](t, w.Body)
	if got.Model.Version != v || got.ProbabilityOfDefault != want {
		t.Errorf("/predict answered %v from version %s, want %v from version %s", got.ProbabilityOfDefault, got.Model.Version, want, v)
	}
}

func predict0(t *testing.T, iters int) float64 {
	t.Helper()
	p, err := tinyModel(t, iters).Predict(table(t).Matrix([]int{0}))
	if err != nil {
		t.Fatal(err)
	}
	return p[0]
}

// TestTamperedVersionRefused: files changed in the bucket after
// registration are refused even when checksums.json was rewritten to
// match (or removed): the registry's digest is the reference. The old
// model keeps answering and the refusal is counted.
func TestTamperedVersionRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   string
	}{
		{"model file swapped, checksums regenerated", func(t *testing.T, dir string) {
			swapModelFile(t, dir)
			rewriteChecksums(t, dir)
		}, "model.lgb differs from the model_sha256 tag"},
		{"model file swapped, checksums removed", func(t *testing.T, dir string) {
			swapModelFile(t, dir)
			if err := removeFile(dir, model.ChecksumsFile); err != nil {
				t.Fatal(err)
			}
		}, "model.lgb differs"},
		{"schema edited, checksums regenerated", func(t *testing.T, dir string) {
			p := filepath.Join(dir, model.SchemaFile)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte(`"radio/television"`)) {
				t.Fatal("schema.json lacks the level radio/television")
			}
			if err := os.WriteFile(p, bytes.Replace(b, []byte(`"radio/television"`), []byte(`"radio/tv"`), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			rewriteChecksums(t, dir)
		}, "changed after registration"},
		{"file added, checksums regenerated", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "extra.json"), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
			rewriteChecksums(t, dir)
		}, "changed after registration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, src := loaded(t, Options{})
			dir := writeModel(t, t.TempDir(), 20, "run2")
			src.dirs["2"] = dir
			src.record(t, "2", dir) // at registration
			tc.tamper(t, dir)
			src.set("2")
			_, err := s.Reload(context.Background(), true)
			var re *ReloadError
			if !errors.As(err, &re) || re.Step != StepVerify || !errors.Is(err, integrity.ErrMismatch) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("reload of the tampered version: %v, want a verify error with %q", err, tc.want)
			}
			served(t, s, "1", predict0(t, 10))
			if got := testutil.ToFloat64(s.m.reloadFails.WithLabelValues(StepVerify)); got != 1 {
				t.Errorf("model_reload_failures_total{step=verify} = %v, want 1", got)
			}
		})
	}
}

// TestRegisteredIntegrity: an untampered version is served as
// "registered"; the version's and its run's digests must agree.
func TestRegisteredIntegrity(t *testing.T) {
	s, _, src := loaded(t, Options{})
	v := decode[VersionResponse](t, do(t, s.Handler(), "GET", "/version", "", "").Body)
	if v.Model == nil || v.Model.Integrity != IntegrityRegistered {
		t.Errorf("/version model %+v, want integrity %q", v.Model, IntegrityRegistered)
	}
	dir := writeModel(t, t.TempDir(), 20, "run2")
	src.dirs["2"] = dir
	rec := src.record(t, "2", dir)
	rec.RunDigest = strings.Repeat("0", 64)
	src.recorded["2"] = rec
	src.set("2")
	if _, err := s.Reload(context.Background(), false); err == nil || !strings.Contains(err.Error(), "and its run's") {
		t.Errorf("version and run digests differ: %v", err)
	}
}

// TestNewlineBombModel: a model.lgb of "tree" and 8 MiB of newlines (with
// its digests recorded, so that it reaches the reader) is refused while
// the heap grows by less than 50 MB, and the old model keeps serving. The
// reader that split the file into lines first used about 950 MB for it.
func TestNewlineBombModel(t *testing.T) {
	s, _, src := loaded(t, Options{})
	dir := writeModel(t, t.TempDir(), 20, "run2")
	bomb := append([]byte("tree\n"), bytes.Repeat([]byte("\n"), 8<<20)...)
	if err := os.WriteFile(filepath.Join(dir, lgbm.FileName), bomb, 0o644); err != nil {
		t.Fatal(err)
	}
	rewriteChecksums(t, dir)
	src.dirs["2"] = dir
	src.record(t, "2", dir)
	src.set("2")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := s.Reload(context.Background(), false)
	runtime.ReadMemStats(&after)
	var re *ReloadError
	if !errors.As(err, &re) || re.Step != StepLoad {
		t.Fatalf("reload of the newline bomb: %v, want a load error", err)
	}
	grew := after.TotalAlloc - before.TotalAlloc
	t.Logf("reload of a %d-byte model allocated %.1f MB: %v", len(bomb), float64(grew)/(1<<20), err)
	if grew > 50<<20 {
		t.Errorf("the reload allocated %d MB, want < 50 MB", grew>>20)
	}
	served(t, s, "1", predict0(t, 10))
}

// signVersion signs version (files in dir) with key as promote does: the
// registry records the digest and the signature tags, the manifest lies
// at the URI the tags name. It returns the manifest as src holds it.
func signVersion(t *testing.T, src *fakeSource, version, dir string, key ed25519.PrivateKey) []byte {
	t.Helper()
	files, err := integrity.HashDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := integrity.NewManifest(integrity.Registration{Name: "fake", Version: version, RunID: "run" + version}, files).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	rec := src.record(t, version, dir)
	rec.Signature = integrity.EncodeSignature(integrity.Sign(key, m))
	rec.SignatureKey = integrity.KeyID(key.Public().(ed25519.PublicKey))
	rec.Manifest = "runs:/promotion" + version + "/" + integrity.ManifestFile
	src.mu.Lock()
	src.recorded[version] = rec
	if src.manifests == nil {
		src.manifests = map[string][]byte{}
	}
	src.manifests[rec.Manifest] = m
	src.mu.Unlock()
	return m
}

// TestSignature: with a verify key, a version signed by it is served as
// "signed"; a missing signature, one by another key, a manifest with one
// changed byte, and files changed after signing (with the registry's
// digest changed too, as by someone who can write the registry but has no
// key) are each refused, counted, and the old model keeps answering.
func TestSignature(t *testing.T) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, src *fakeSource, dir string)
		want  string // "" when the version loads
	}{
		{"signed", func(t *testing.T, src *fakeSource, dir string) { signVersion(t, src, "2", dir, key) }, ""},
		{"missing signature", func(t *testing.T, src *fakeSource, dir string) { src.record(t, "2", dir) }, "is not signed"},
		{"another key", func(t *testing.T, src *fakeSource, dir string) { signVersion(t, src, "2", dir, other) }, "is signed by key"},
		{"another key, key id tag removed", func(t *testing.T, src *fakeSource, dir string) {
			signVersion(t, src, "2", dir, other)
			rec := src.recorded["2"]
			rec.SignatureKey = ""
			src.recorded["2"] = rec
		}, "does not verify"},
		{"changed manifest byte", func(t *testing.T, src *fakeSource, dir string) {
			m := signVersion(t, src, "2", dir, key)
			m[len(m)/2] ^= 1
		}, "does not verify"},
		{"file changed after signing, registry digest too", func(t *testing.T, src *fakeSource, dir string) {
			signVersion(t, src, "2", dir, key)
			sig := src.recorded["2"]
			swapModelFile(t, dir)
			rewriteChecksums(t, dir)
			rec := src.record(t, "2", dir)
			rec.Signature, rec.SignatureKey, rec.Manifest = sig.Signature, sig.SignatureKey, sig.Manifest
			src.recorded["2"] = rec
		}, "model.lgb has changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{dirs: map[string]string{"1": writeModel(t, t.TempDir(), 10, "run1")}, cur: "1"}
			signVersion(t, src, "1", src.dirs["1"], key)
			s, _ := newServer(t, src, Options{VerifyKey: pub})
			if _, err := s.Reload(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			dir := writeModel(t, t.TempDir(), 20, "run2")
			src.dirs["2"] = dir
			tc.setup(t, src, dir)
			src.set("2")
			_, err := s.Reload(context.Background(), false)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("reload of a signed version: %v", err)
				}
				served(t, s, "2", predict0(t, 20))
				v := decode[VersionResponse](t, do(t, s.Handler(), "GET", "/version", "", "").Body)
				if v.Model.Integrity != IntegritySigned {
					t.Errorf("/version integrity %q, want %q", v.Model.Integrity, IntegritySigned)
				}
				return
			}
			var re *ReloadError
			if !errors.As(err, &re) || re.Step != StepSignature || !errors.Is(err, integrity.ErrSignature) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("reload: %v, want a signature error with %q", err, tc.want)
			}
			served(t, s, "1", predict0(t, 10))
			if got := testutil.ToFloat64(s.m.reloadFails.WithLabelValues(StepSignature)); got != 1 {
				t.Errorf("model_reload_failures_total{step=signature} = %v, want 1", got)
			}
		})
	}
}

// registerVersion registers dir as train does: uploaded as the "model"
// directory of a new run tagged with its digest, and a version of name
// tagged at registration. It returns the version and the run's store.
func registerVersion(t *testing.T, b tracking.Backend, expID, name, dir string) (*mlflow.ModelVersion, artifact.Store) {
	t.Helper()
	ctx := t.Context()
	run, err := b.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: expID})
	if err != nil {
		t.Fatal(err)
	}
	store, err := b.Artifacts(run.Info.ArtifactURI)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.UploadDir(ctx, dir, tracking.ModelPath); err != nil {
		t.Fatal(err)
	}
	tags := registrationTags(t, dir)
	if err := b.SetTag(ctx, run.Info.RunID, tags[0].Key, tags[0].Value); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetOrCreateRegisteredModel(ctx, name); err != nil {
		t.Fatal(err)
	}
	mv, err := b.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: name,
		Source: strings.TrimRight(run.Info.ArtifactURI, "/") + "/" + tracking.ModelPath, RunID: run.Info.RunID, Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitModelVersionReady(ctx, name, mv.Version, time.Minute); err != nil {
		t.Fatal(err)
	}
	return mv, store
}

// tamperedRegistry: version 1 serves; version 2's model.lgb is swapped in
// the artifact store and checksums.json rewritten to match, as by someone
// who can write the bucket but not the registry. When the alias moves to
// version 2, the reload is refused and version 1 keeps answering. A
// download larger than MaxModelSize is refused while it arrives.
func tamperedRegistry(t *testing.T, b tracking.Backend) {
	ctx := t.Context()
	suffix := fmt.Sprint(time.Now().UnixNano())
	exp, err := b.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "serve-tamper-" + suffix})
	if err != nil {
		t.Fatal(err)
	}
	name := "serve-tamper-" + suffix
	t.Cleanup(func() { b.DeleteRegisteredModel(context.Background(), name) })
	v1, _ := registerVersion(t, b, exp.ID, name, writeModel(t, t.TempDir(), 10, "r1"))
	dir := writeModel(t, t.TempDir(), 20, "r2")
	v2, store := registerVersion(t, b, exp.ID, name, dir)
	if err := b.SetRegisteredModelAlias(ctx, name, "champion", v1.Version); err != nil {
		t.Fatal(err)
	}
	src, err := NewSource("models:/"+name+"@champion", b)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newServer(t, src, Options{})
	if _, err := s.Reload(ctx, false); err != nil {
		t.Fatal(err)
	}
	served(t, s, v1.Version, predict0(t, 10))

	swapModelFile(t, dir)
	rewriteChecksums(t, dir)
	for _, f := range []string{lgbm.FileName, model.ChecksumsFile} {
		if err := store.Upload(ctx, filepath.Join(dir, f), tracking.ModelPath+"/"+f); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SetRegisteredModelAlias(ctx, name, "champion", v2.Version); err != nil {
		t.Fatal(err)
	}
	_, err = s.Reload(ctx, false)
	var re *ReloadError
	if !errors.As(err, &re) || re.Step != StepVerify || !errors.Is(err, integrity.ErrMismatch) {
		t.Fatalf("reload of the tampered version: %v, want a verify error", err)
	}
	t.Logf("files at %s; refused: %v", store.URI(), err)
	served(t, s, v1.Version, predict0(t, 10))

	// The version's run records the digest too; when the two disagree
	// (one of them was changed), the version is refused.
	if err := b.SetTag(ctx, v1.RunID, integrity.TagFilesDigest, strings.Repeat("0", 64)); err != nil {
		t.Fatal(err)
	}
	fresh, _ := newServer(t, &Registered{Backend: b, Ref: tracking.Ref{Name: name, Version: v1.Version}}, Options{})
	if _, err := fresh.Reload(ctx, false); err == nil || !strings.Contains(err.Error(), "and its run's") {
		t.Errorf("version whose run records another digest: %v", err)
	}

	small, _ := newServer(t, src, Options{MaxModelSize: 4 << 10})
	_, err = small.Reload(ctx, false)
	if !errors.As(err, &re) || re.Step != StepDownload || !errors.Is(err, artifact.ErrTooLarge) {
		t.Errorf("reload past MaxModelSize: %v, want a download error wrapping ErrTooLarge", err)
	}
}

func TestTamperedLocalStore(t *testing.T) {
	st, err := filestore.Open(filepath.Join(t.TempDir(), "mlruns"))
	if err != nil {
		t.Fatal(err)
	}
	tamperedRegistry(t, st)
}

// TestTamperedMinIO: the same through both MLflow servers of the stack,
// the files in MinIO.
func TestTamperedMinIO(t *testing.T) {
	testkit.S3(t)
	for _, srv := range testkit.Servers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			c, err := mlflow.NewClient(srv.URI, mlflow.WithRetries(1, 100*time.Millisecond, 0))
			if err != nil {
				t.Fatal(err)
			}
			tamperedRegistry(t, server(c))
		})
	}
}

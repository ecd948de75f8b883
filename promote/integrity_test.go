package promote

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditrisk/engine/integrity"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/promote/promotetest"
	"github.com/creditrisk/engine/serve"
	"github.com/creditrisk/engine/tracking"
)

// TestPromoteRecordsAndSigns: promoting a version that has no recorded
// digest (as one logged by Python's mlflow) records it; with a key, the
// manifest and signature land in the promotion run and on the version
// before the alias moves, openssl verifies them, and serve with the
// public key loads the version as signed. A version whose files changed
// after registration is not promoted.
func TestPromoteRecordsAndSigns(t *testing.T) {
	ctx := context.Background()
	_, st, name := localStore(t)
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	v1 := promotetest.Register(t, st, name, "runs", strong)
	o := localOpts(t, name, v1)
	o.SignKey = key
	d, err := Promote(ctx, st, o)
	if err != nil || !d.Applied {
		t.Fatalf("promote v%s: %+v, %v", v1, d, err)
	}
	in := d.Integrity
	if in == nil || in.RecordedAt != "promotion" || in.KeyID != integrity.KeyID(pub) || in.Manifest != "runs:/"+d.RunID+"/"+integrity.ManifestFile {
		t.Fatalf("integrity %+v", in)
	}
	mv, err := st.GetModelVersion(ctx, name, v1)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{integrity.TagFilesDigest: in.Digest, integrity.TagSignatureKey: in.KeyID, integrity.TagManifest: in.Manifest} {
		if got, _ := mv.Tag(k); got != want {
			t.Errorf("tag %s = %q, want %q", k, got, want)
		}
	}

	// A third party: the promotion run's two files and openssl.
	dir := t.TempDir()
	for _, f := range []string{integrity.ManifestFile, integrity.SignatureFile} {
		if err := tracking.Fetch(ctx, st, tracking.Ref{RunID: d.RunID, Path: f}, filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := os.ReadFile(filepath.Join(dir, integrity.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	sigTag, _ := mv.Tag(integrity.TagSignature)
	sig, err := integrity.DecodeSignature(sigTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := integrity.Verify(pub, m, sig); err != nil {
		t.Errorf("the signature tag does not verify the manifest: %v", err)
	}
	parsed, err := integrity.Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Predicate.Model != (integrity.Registration{Name: name, Version: v1, RunID: mv.RunID}) || parsed.Digest() != in.Digest {
		t.Errorf("manifest for %+v digest %s", parsed.Predicate.Model, parsed.Digest())
	}
	if openssl, err := exec.LookPath("openssl"); err != nil {
		testkit.Unavailable(t, "openssl is not installed: %v", err)
	} else {
		der, _ := x509.MarshalPKIXPublicKey(pub)
		if err := os.WriteFile(filepath.Join(dir, "pub.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(openssl, "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", integrity.ManifestFile, "-sigfile", integrity.SignatureFile)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Signature Verified Successfully") {
			t.Errorf("openssl: %v\n%s", err, out)
		}
	}

	// serve with the public key loads the champion as signed.
	src, err := serve.NewSource("models:/"+name+"@"+DefaultAlias, st)
	if err != nil {
		t.Fatal(err)
	}
	s, err := serve.New(src, prometheus.NewRegistry(), nil, serve.Options{VerifyKey: pub, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Reload(ctx, false); err != nil {
		t.Fatalf("serve a signed champion: %v", err)
	}

	// v2 is registered with its digest, then a file is swapped in the
	// store: promote refuses it and the alias stays.
	v2 := promotetest.Register(t, st, name, "runs", mid)
	mv2, err := st.GetModelVersion(ctx, name, v2)
	if err != nil {
		t.Fatal(err)
	}
	uri, err := tracking.VersionLocation(ctx, st, mv2)
	if err != nil {
		t.Fatal(err)
	}
	down := filepath.Join(t.TempDir(), "v2")
	if err := tracking.Download(ctx, st, uri, down); err != nil {
		t.Fatal(err)
	}
	files, err := integrity.HashDir(down)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetModelVersionTag(ctx, name, v2, integrity.TagFilesDigest, integrity.Digest(files)); err != nil {
		t.Fatal(err)
	}
	schema := filepath.Join(down, model.SchemaFile)
	b, err := os.ReadFile(schema)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(schema, append(b, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	store, err := st.Artifacts(uri)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Upload(ctx, schema, model.SchemaFile); err != nil {
		t.Fatal(err)
	}
	o2 := localOpts(t, name, v2)
	o2.SignKey = key
	if _, err := Promote(ctx, st, o2); !errors.Is(err, integrity.ErrMismatch) {
		t.Errorf("promote a tampered version: %v, want ErrMismatch", err)
	}
	if got := aliasOf(t, st, name); got != v1 {
		t.Errorf("alias moved to %s after a refused promotion", got)
	}
}

func aliasOf(t *testing.T, b tracking.Backend, name string) string {
	t.Helper()
	mv, err := aliasVersion(context.Background(), b, name, DefaultAlias)
	if err != nil {
		t.Fatal(err)
	}
	return versionOf(mv)
}

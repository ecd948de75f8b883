package integrity_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/creditrisk/engine/integrity"
	"github.com/creditrisk/engine/internal/testkit"
)

// modelDir writes a small model directory and returns it.
func modelDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"MLmodel":          "flavors:\n  lightgbm:\n    data: model.lgb\n",
		"model.lgb":        "tree\nversion=v4\n",
		"schema.json":      `{"features":[]}`,
		"sub/a b.txt":      "with a space",
		"sub/deeper/x.csv": "a,b\n1,2\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testkit.Unavailable(t, "%s is not installed: %v", name, err)
	}
	return p
}

// TestDigestIsSha256sum: Digest is what the documented shell pipeline
// prints, so a third party recomputes it without this code.
func TestDigestIsSha256sum(t *testing.T) {
	tool(t, "sha256sum")
	dir := modelDir(t)
	files, err := integrity.HashDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 5 {
		t.Fatalf("HashDir found %d files, want 5: %v", len(files), files)
	}
	cmd := exec.Command("sh", "-c", `find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum`)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("shell digest: %v", err)
	}
	want, _, _ := strings.Cut(string(out), " ")
	if got := integrity.Digest(files); got != want {
		t.Errorf("Digest = %s, sha256sum pipeline = %s", got, want)
	}
}

func TestHashDirRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(dir string) error
		want  string
	}{
		{"symlink", func(dir string) error { return os.Symlink("/etc/passwd", filepath.Join(dir, "link")) }, "not a regular file"},
		{"newline in a name", func(dir string) error { return os.WriteFile(filepath.Join(dir, "a\nb"), nil, 0o644) }, "not a plain relative path"},
		{"backslash in a name", func(dir string) error { return os.WriteFile(filepath.Join(dir, `a\b`), nil, 0o644) }, "not a plain relative path"},
		{"too many files", func(dir string) error {
			for i := 0; i <= integrity.MaxFiles; i++ {
				if err := os.WriteFile(filepath.Join(dir, "f"+strconv.Itoa(i)), nil, 0o644); err != nil {
					return err
				}
			}
			return nil
		}, "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tc.setup(dir); err != nil {
				t.Fatal(err)
			}
			_, err := integrity.HashDir(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("HashDir: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	want := map[string]string{"a": strings.Repeat("a", 64), "b": strings.Repeat("b", 64), "c": strings.Repeat("c", 64)}
	got := map[string]string{"a": strings.Repeat("a", 64), "b": strings.Repeat("0", 64), "d": strings.Repeat("d", 64)}
	err := integrity.Compare(want, got)
	if !errors.Is(err, integrity.ErrMismatch) {
		t.Fatalf("Compare: %v, want ErrMismatch", err)
	}
	for _, s := range []string{"b has changed", "c is missing", "d is not listed"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("Compare: %v, want %q", err, s)
		}
	}
	if err := integrity.Compare(want, want); err != nil {
		t.Errorf("Compare(same): %v", err)
	}
}

var reg = integrity.Registration{Name: "credit-risk", Version: "7", RunID: "0123abcd"}

func manifest(t *testing.T, dir string) []byte {
	t.Helper()
	files, err := integrity.HashDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := integrity.NewManifest(reg, files).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// TestSignVerify: the round trip, and a wrong key, a missing signature,
// a changed byte of the manifest or of the signature, each refused.
func TestSignVerify(t *testing.T) {
	dir := modelDir(t)
	m := manifest(t, dir)
	pub, priv := newKey(t)
	other, _ := newKey(t)
	sig := integrity.Sign(priv, m)
	tag := integrity.EncodeSignature(sig)
	dec, err := integrity.DecodeSignature(tag)
	if err != nil || !bytes.Equal(dec, sig) {
		t.Fatalf("signature tag round trip: %v", err)
	}
	if err := integrity.Verify(pub, m, dec); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	parsed, err := integrity.Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := integrity.HashDir(dir)
	if err := parsed.Check(reg, files); err != nil {
		t.Errorf("Check of the signed files: %v", err)
	}
	if parsed.Digest() != integrity.Digest(files) {
		t.Errorf("subject digest %s, want the directory digest %s", parsed.Digest(), integrity.Digest(files))
	}

	flip := func(b []byte, i int) []byte { c := bytes.Clone(b); c[i] ^= 1; return c }
	for _, tc := range []struct {
		name          string
		pub           ed25519.PublicKey
		manifest, sig []byte
	}{
		{"wrong key", other, m, sig},
		{"missing signature", pub, m, nil},
		{"changed manifest byte", pub, flip(m, len(m)/2), sig},
		{"changed signature byte", pub, m, flip(sig, 10)},
		{"truncated signature", pub, m, sig[:63]},
	} {
		if err := integrity.Verify(tc.pub, tc.manifest, tc.sig); !errors.Is(err, integrity.ErrSignature) {
			t.Errorf("%s: Verify = %v, want ErrSignature", tc.name, err)
		}
	}
	for _, bad := range []string{"", "not base64!", integrity.EncodeSignature(sig[:32])} {
		if _, err := integrity.DecodeSignature(bad); !errors.Is(err, integrity.ErrSignature) {
			t.Errorf("DecodeSignature(%q) = %v, want ErrSignature", bad, err)
		}
	}

	// A file swapped after signing, or a manifest for another version.
	if err := os.WriteFile(filepath.Join(dir, "model.lgb"), []byte("tree\nswapped\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, _ = integrity.HashDir(dir)
	if err := parsed.Check(reg, files); !errors.Is(err, integrity.ErrMismatch) || !strings.Contains(err.Error(), "model.lgb has changed") {
		t.Errorf("Check after a swap: %v", err)
	}
	other8 := reg
	other8.Version = "8"
	if err := parsed.Check(other8, files); !errors.Is(err, integrity.ErrMismatch) || !strings.Contains(err.Error(), "models:/credit-risk/8") {
		t.Errorf("Check for another version: %v", err)
	}
}

// TestOpenSSL: openssl verifies what Sign makes with a key openssl made,
// refuses it after one changed byte, and Go verifies what openssl signs;
// KeyID is the documented openssl pipeline.
func TestOpenSSL(t *testing.T) {
	openssl := tool(t, "openssl")
	dir := t.TempDir()
	key, pubPEM := filepath.Join(dir, "key.pem"), filepath.Join(dir, "pub.pem")
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}
	if out, err := run("genpkey", "-algorithm", "ed25519", "-out", key); err != nil {
		t.Fatalf("openssl genpkey: %v\n%s", err, out)
	}
	if out, err := run("pkey", "-in", key, "-pubout", "-out", pubPEM); err != nil {
		t.Fatalf("openssl pkey -pubout: %v\n%s", err, out)
	}
	priv, err := integrity.ReadPrivateKeyFile(key)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := integrity.ReadPublicKeyFile(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	m := manifest(t, modelDir(t))
	mf, sf := filepath.Join(dir, integrity.ManifestFile), filepath.Join(dir, integrity.SignatureFile)
	write := func(p string, b []byte) {
		t.Helper()
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(mf, m)
	write(sf, integrity.Sign(priv, m))
	verify := []string{"pkeyutl", "-verify", "-pubin", "-inkey", pubPEM, "-rawin", "-in", mf, "-sigfile", sf}
	if out, err := run(verify...); err != nil || !strings.Contains(string(out), "Signature Verified Successfully") {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(verify, " "), err, out)
	}
	changed := bytes.Replace(m, []byte(`"version":"7"`), []byte(`"version":"8"`), 1)
	write(mf, changed)
	if out, err := run(verify...); err == nil {
		t.Errorf("openssl verified a changed manifest:\n%s", out)
	}

	write(mf, m)
	osig := filepath.Join(dir, "openssl.sig")
	if out, err := run("pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", mf, "-out", osig); err != nil {
		t.Fatalf("openssl pkeyutl -sign: %v\n%s", err, out)
	}
	sig, err := os.ReadFile(osig)
	if err != nil {
		t.Fatal(err)
	}
	if err := integrity.Verify(pub, m, sig); err != nil {
		t.Errorf("Verify of openssl's signature: %v", err)
	}

	cmd := exec.Command("sh", "-c", `"$0" pkey -pubin -in pub.pem -outform DER | sha256sum`, openssl)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if want, _, _ := strings.Cut(string(out), " "); integrity.KeyID(pub) != want {
		t.Errorf("KeyID = %s, openssl = %s", integrity.KeyID(pub), want)
	}
}

func TestParseKeys(t *testing.T) {
	pub, priv := newKey(t)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	pder, _ := x509.MarshalPKIXPublicKey(pub)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder})
	if k, err := integrity.ParsePrivateKey(privPEM); err != nil || !k.Equal(priv) {
		t.Errorf("ParsePrivateKey: %v", err)
	}
	if k, err := integrity.ParsePublicKey(pubPEM); err != nil || !k.Equal(pub) {
		t.Errorf("ParsePublicKey: %v", err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		pub  bool
		want string
	}{
		{"empty", nil, false, "no PEM block"},
		{"public as private", pubPEM, false, `"PUBLIC KEY", want "PRIVATE KEY"`},
		{"private as public", privPEM, true, `"PRIVATE KEY", want "PUBLIC KEY"`},
		{"garbage DER", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("xx")}), false, "PKCS#8"},
	} {
		var err error
		if tc.pub {
			_, err = integrity.ParsePublicKey(tc.b)
		} else {
			_, err = integrity.ParsePrivateKey(tc.b)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "openssl genpkey") {
			t.Errorf("%s: %v, want %q and a hint", tc.name, err, tc.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	good := string(manifest(t, modelDir(t)))
	for _, tc := range []struct{ name, old, new, want string }{
		{"statement type", "in-toto.io/Statement/v1", "in-toto.io/Statement/v0.1", "_type"},
		{"predicate type", "model-signature/v1", "model-signature/v2", "predicateType"},
		{"unknown field", `"predicate":{`, `"predicate":{"extra":1,`, "unknown field"},
		{"trailing data", "}}}\n", "}}}{}", "after the statement"},
		{"subject name", `"name":"models:/credit-risk/7"`, `"name":"models:/credit-risk/8"`, "subject"},
		{"path climbs", `"name":"MLmodel"`, `"name":"../MLmodel"`, "clean relative path"},
		{"digest case", `"digest":"`, `"digest":"A`, "lowercase hex"},
		{"unsorted", `"name":"MLmodel"`, `"name":"zz"`, "sorted and unique"},
		{"symlinks", `"allow_symlinks":false`, `"allow_symlinks":true`, "serialization"},
		{"no version", `"version":"7"`, `"version":""`, "version are required"},
	} {
		b := strings.Replace(good, tc.old, tc.new, 1)
		if b == good {
			t.Fatalf("%s: %q not in the manifest", tc.name, tc.old)
		}
		_, err := integrity.Parse([]byte(b))
		if !errors.Is(err, integrity.ErrManifest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Parse = %v, want ErrManifest with %q", tc.name, err, tc.want)
		}
	}
	// A resource digest changed without the subject digest.
	files, _ := integrity.HashDir(modelDir(t))
	m := integrity.NewManifest(reg, files)
	m.Predicate.Resources[0].Digest = strings.Repeat("0", 64)
	b, _ := m.Marshal()
	if _, err := integrity.Parse(b); err == nil || !strings.Contains(err.Error(), "not the digest of the resources") {
		t.Errorf("Parse with a stale subject digest: %v", err)
	}
	if _, err := integrity.Parse(make([]byte, integrity.MaxManifestSize+1)); !errors.Is(err, integrity.ErrManifest) {
		t.Errorf("Parse of an oversized manifest: %v", err)
	}
}

// FuzzParse: Parse never panics, and what it accepts marshals back to
// bytes it accepts with the same content.
func FuzzParse(f *testing.F) {
	files := map[string]string{"MLmodel": strings.Repeat("1", 64), "model.lgb": strings.Repeat("2", 64), "sub/x": strings.Repeat("a", 64)}
	good, _ := integrity.NewManifest(reg, files).Marshal()
	f.Add(good)
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1"}`))
	f.Add([]byte(`{}`))
	f.Add(bytes.Replace(good, []byte("sub/x"), []byte("sub/../x"), 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := integrity.Parse(b)
		if err != nil {
			if !errors.Is(err, integrity.ErrManifest) {
				t.Fatalf("error does not wrap ErrManifest: %v", err)
			}
			return
		}
		again, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := integrity.Parse(again)
		if err != nil {
			t.Fatalf("re-parse of a marshalled manifest: %v", err)
		}
		if m2.Digest() != m.Digest() || m2.Predicate.Model != m.Predicate.Model || integrity.Compare(m.Files(), m2.Files()) != nil {
			t.Fatalf("round trip changed the manifest")
		}
	})
}

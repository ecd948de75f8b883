package serve

import (
	"context"
	"errors"
	"fmt"

	"github.com/creditrisk/engine/integrity"
	"github.com/creditrisk/engine/model"
)

// What a served model's integrity rests on, strongest first: /version
// reports it as model.integrity and model_info as its integrity label.
const (
	// IntegritySigned: the version's signature verified with the key of
	// Options.VerifyKey and every file matches the signed manifest.
	IntegritySigned = "signed"
	// IntegrityRegistered: every file matches the digest the registry
	// recorded at registration (or promotion), apart from the files.
	IntegrityRegistered = "registered"
	// IntegrityChecksums: a local directory whose files match its own
	// checksums.json; there is no registry to check against.
	IntegrityChecksums = "checksums"
	// IntegrityUnverified: nothing recorded to check against; loaded only
	// with Options.AllowUnverified.
	IntegrityUnverified = "unverified"
)

// ErrUnverified is wrapped when a model has nothing to be verified against
// and Options.AllowUnverified is not set.
var ErrUnverified = errors.New("model integrity cannot be verified")

// verify checks the fetched files against what the registry recorded and,
// with a verify key, against the signed manifest. It returns the integrity
// the model is served with, or the step (StepVerify, StepSignature) and
// the error that refuses it. Files that disagree with what was recorded
// are always refused; AllowUnverified only admits a model for which
// nothing was recorded.
func (s *Server) verify(ctx context.Context, v Version, f *Fetched, tmp string) (string, string, error) {
	files, err := integrity.HashDir(f.Dir)
	if err != nil {
		return "", StepVerify, err
	}
	// checksums.json proves nothing against tampering, but a directory
	// whose files disagree with it is damaged either way.
	sums := model.VerifyFiles(f.Dir, files)
	hasSums := !errors.Is(sums, model.ErrNoChecksums)
	if hasSums && sums != nil {
		return "", StepVerify, sums
	}
	r := f.Recorded
	if r.ModelSHA256 != "" {
		if got := files[r.ModelFile]; got != r.ModelSHA256 {
			return "", StepVerify, fmt.Errorf("%s differs from the %s tag recorded at registration (%s): %w",
				orQuote(r.ModelFile), integrity.TagModelSHA256, r.ModelSHA256, integrity.ErrMismatch)
		}
	}
	if r.Digest != "" && r.RunDigest != "" && r.Digest != r.RunDigest {
		return "", StepVerify, fmt.Errorf("the version's %s tag (%s) and its run's (%s) differ: %w",
			integrity.TagFilesDigest, r.Digest, r.RunDigest, integrity.ErrMismatch)
	}
	want := r.Digest
	if want == "" {
		want = r.RunDigest
	}
	level := IntegrityRegistered
	switch got := integrity.Digest(files); {
	case want != "" && got != want:
		return "", StepVerify, fmt.Errorf("the files have digest %s, the registry recorded %s (%s): they changed after registration: %w",
			got, want, integrity.TagFilesDigest, integrity.ErrMismatch)
	case want != "":
	case v.Name == "" && v.RunID == "" && hasSums:
		level = IntegrityChecksums
	case s.opts.AllowUnverified:
		level = IntegrityUnverified
	case v.Name == "" && v.RunID == "":
		return "", StepVerify, fmt.Errorf("the directory has no %s (written by Python's mlflow?): %w; allow it with --allow-unverified",
			model.ChecksumsFile, ErrUnverified)
	default:
		return "", StepVerify, fmt.Errorf("the registry recorded no %s tag (a version logged by Python's mlflow, or registered before digests were recorded): %w; record one with pipeline promote, or allow it with --allow-unverified",
			integrity.TagFilesDigest, ErrUnverified)
	}
	if s.opts.VerifyKey == nil {
		return level, "", nil
	}
	if err := s.verifySignature(ctx, v, f, files, want, tmp); err != nil {
		return "", StepSignature, err
	}
	return IntegritySigned, "", nil
}

// verifySignature checks the version's signature with the verify key and
// the files against the manifest it signs.
func (s *Server) verifySignature(ctx context.Context, v Version, f *Fetched, files map[string]string, digest, tmp string) error {
	key := s.opts.VerifyKey
	r := f.Recorded
	if r.Signature == "" || r.Manifest == "" {
		return fmt.Errorf("version %s is not signed (no %s or %s tag; sign it with pipeline promote --sign-key): %w",
			v.Version, integrity.TagSignature, integrity.TagManifest, integrity.ErrSignature)
	}
	if id := integrity.KeyID(key); r.SignatureKey != "" && r.SignatureKey != id {
		return fmt.Errorf("version %s is signed by key %s, not by the verify key %s: %w", v.Version, r.SignatureKey, id, integrity.ErrSignature)
	}
	sig, err := integrity.DecodeSignature(r.Signature)
	if err != nil {
		return err
	}
	b, err := s.src.Manifest(ctx, r.Manifest, tmp)
	if err != nil {
		return fmt.Errorf("fetch the signed manifest: %w", err)
	}
	if err := integrity.Verify(key, b, sig); err != nil {
		return err
	}
	m, err := integrity.Parse(b)
	if err != nil {
		return err
	}
	if err := m.Check(integrity.Registration{Name: v.Name, Version: v.Version, RunID: v.RunID}, files); err != nil {
		return fmt.Errorf("%w (%w)", err, integrity.ErrSignature)
	}
	if digest != "" && m.Digest() != digest {
		return fmt.Errorf("the signed manifest's digest %s is not the registry's %s: %w", m.Digest(), digest, integrity.ErrSignature)
	}
	return nil
}

func orQuote(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

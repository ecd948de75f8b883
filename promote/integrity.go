package promote

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"

	"github.com/creditrisk/engine/integrity"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/tracking"
)

// Integrity is what a promotion found, recorded and signed of the
// candidate's files (see package integrity).
type Integrity struct {
	// Digest is the directory digest of the files the gates scored.
	Digest string `json:"digest"`
	// RecordedAt is "registration" when the registry already had Digest,
	// "promotion" when this promotion records it: a version logged by
	// Python's mlflow has no digest until it is promoted.
	RecordedAt string `json:"recorded_at"`
	// KeyID and Manifest (a runs:/ URI in the promotion run) are set when
	// the promotion signed the version.
	KeyID    string `json:"key_id,omitempty"`
	Manifest string `json:"manifest,omitempty"`

	files map[string]string
}

// checkFiles compares a downloaded version's files with the digests the
// registry recorded for it (model_files_sha256, model_sha256): a version
// whose files changed since registration is never promoted, nor compared
// against. Without a recorded digest, the files as downloaded now are what
// the promotion records.
func checkFiles(mv *mlflow.ModelVersion, dir string) (*Integrity, error) {
	files, err := integrity.HashDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s version %s: %w", mv.Name, mv.Version, err)
	}
	in := &Integrity{Digest: integrity.Digest(files), RecordedAt: "promotion", files: files}
	if f, ok := mv.Tag(integrity.TagModelFile); ok {
		if want, _ := mv.Tag(integrity.TagModelSHA256); want != "" && files[f] != want {
			return nil, fmt.Errorf("%s version %s: %s differs from the %s recorded at registration: %w",
				mv.Name, mv.Version, f, integrity.TagModelSHA256, integrity.ErrMismatch)
		}
	}
	if want, ok := mv.Tag(integrity.TagFilesDigest); ok {
		if want != in.Digest {
			return nil, fmt.Errorf("%s version %s: the files have digest %s, the registry recorded %s: they changed after registration: %w",
				mv.Name, mv.Version, in.Digest, want, integrity.ErrMismatch)
		}
		in.RecordedAt = "registration"
	}
	return in, nil
}

// recordIntegrity writes, before the alias moves (so that a server
// following it never sees the version without them), the candidate's
// digest when the registry has none and, with a signing key, the signed
// manifest as artifacts of the promotion run with the signature tags.
func recordIntegrity(ctx context.Context, b tracking.Backend, key ed25519.PrivateKey, d *Decision, runID, runArtifacts, work string) error {
	in := d.Integrity
	tags := map[string]string{}
	if in.RecordedAt == "promotion" {
		tags[integrity.TagFilesDigest] = in.Digest
	}
	if key != nil {
		reg := integrity.Registration{Name: d.Name, Version: d.Candidate.Version, RunID: d.Candidate.RunID}
		m, err := integrity.NewManifest(reg, in.files).Marshal()
		if err != nil {
			return err
		}
		sig := integrity.Sign(key, m)
		store, err := b.Artifacts(runArtifacts)
		if err != nil {
			return fmt.Errorf("artifacts of promotion run %s: %w", runID, err)
		}
		for name, body := range map[string][]byte{integrity.ManifestFile: m, integrity.SignatureFile: sig} {
			p := filepath.Join(work, name)
			if err := os.WriteFile(p, body, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", name, err)
			}
			if err := store.Upload(ctx, p, name); err != nil {
				return fmt.Errorf("upload %s to promotion run %s: %w", name, runID, err)
			}
		}
		in.KeyID = integrity.KeyID(key.Public().(ed25519.PublicKey))
		in.Manifest = "runs:/" + runID + "/" + integrity.ManifestFile
		tags[integrity.TagSignature] = integrity.EncodeSignature(sig)
		tags[integrity.TagSignatureKey] = in.KeyID
		tags[integrity.TagManifest] = in.Manifest
	}
	return tagVersion(ctx, b, d.Name, d.Candidate.Version, tags)
}

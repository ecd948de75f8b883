package integrity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxKeySize bounds a key file: an Ed25519 PEM key is about 120 bytes.
const maxKeySize = 64 << 10

const keyHint = "generate one with `openssl genpkey -algorithm ed25519 -out key.pem` and its public half with `openssl pkey -in key.pem -pubout -out pub.pem`"

// Sign returns the Ed25519 signature of manifest.
func Sign(key ed25519.PrivateKey, manifest []byte) []byte { return ed25519.Sign(key, manifest) }

// Verify checks sig against manifest with pub; an error wraps
// ErrSignature.
func Verify(pub ed25519.PublicKey, manifest, sig []byte) error {
	if len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("signature is %d bytes, want %d: %w", len(sig), ed25519.SignatureSize, ErrSignature)
	}
	if !ed25519.Verify(pub, manifest, sig) {
		return fmt.Errorf("the signature does not verify with key %s: %w", KeyID(pub), ErrSignature)
	}
	return nil
}

// EncodeSignature and DecodeSignature convert a signature to and from its
// tag form, standard base64 with padding (what `base64 -w0` prints).
func EncodeSignature(sig []byte) string { return base64.StdEncoding.EncodeToString(sig) }

// DecodeSignature decodes a signature tag; an error wraps ErrSignature.
func DecodeSignature(s string) ([]byte, error) {
	if len(s) > 2*base64.StdEncoding.EncodedLen(ed25519.SignatureSize) {
		return nil, fmt.Errorf("signature tag is %d characters: %w", len(s), ErrSignature)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("signature tag: %v: %w", err, ErrSignature)
	}
	if len(b) != ed25519.SignatureSize {
		return nil, fmt.Errorf("signature tag holds %d bytes, want %d: %w", len(b), ed25519.SignatureSize, ErrSignature)
	}
	return b, nil
}

// KeyID identifies a public key: the SHA-256 (hex) of its DER
// SubjectPublicKeyInfo.
func KeyID(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "invalid-key"
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// ParsePrivateKey reads an Ed25519 private key from PEM (PKCS#8, "PRIVATE
// KEY").
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	der, err := pemBlock(b, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("PKCS#8 private key: %v; %s", err, keyHint)
	}
	ed, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an Ed25519 key; %s", k, keyHint)
	}
	return ed, nil
}

// ParsePublicKey reads an Ed25519 public key from PEM
// (SubjectPublicKeyInfo, "PUBLIC KEY").
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	der, err := pemBlock(b, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("public key: %v; %s", err, keyHint)
	}
	ed, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an Ed25519 key; %s", k, keyHint)
	}
	return ed, nil
}

func pemBlock(b []byte, want string) ([]byte, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("no PEM block; want %q; %s", want, keyHint)
	}
	if blk.Type != want {
		return nil, fmt.Errorf("PEM block %q, want %q; %s", blk.Type, want, keyHint)
	}
	return blk.Bytes, nil
}

// ReadPrivateKeyFile and ReadPublicKeyFile read a key file; errors name
// the file.
func ReadPrivateKeyFile(path string) (ed25519.PrivateKey, error) {
	b, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ReadPublicKeyFile reads a public key file; see ReadPrivateKeyFile.
func ReadPublicKeyFile(path string) (ed25519.PublicKey, error) {
	b, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeySize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxKeySize {
		return nil, fmt.Errorf("%s: more than %d bytes, not a key file", path, maxKeySize)
	}
	if len(b) == 0 {
		return nil, errors.New(path + ": empty")
	}
	return b, nil
}

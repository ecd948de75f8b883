// Package integrity tells whether a model directory holds the files that
// were registered, from facts kept apart from those files: a digest of the
// whole directory recorded in the registry, and optionally an Ed25519
// signature over a manifest of the files, made when the version is promoted.
//
// checksums.json beside the files proves only that the files agree with
// each other: whoever can write the artifact bucket can rewrite it too. The
// registry (a tracking server's database, or the local store's metadata)
// is another trust domain, so its tags are what serve checks against:
//
//	model_files_sha256   Digest of every file of the model directory (TagFilesDigest),
//	                     on the version at registration (and on its run), or at
//	                     promotion for a version logged by Python's mlflow
//	model_signature      base64 Ed25519 signature of the manifest (TagSignature)
//	model_signature_key  KeyID of the public key that verifies it (TagSignatureKey)
//	model_manifest       runs:/ URI of the signed manifest (TagManifest)
//
// # Directory digest
//
// Digest is the SHA-256 of the listing that sha256sum prints for every file
// of the directory, in byte order of the "/"-separated relative paths:
// "<hex sha256>  <path>\n" per file. Anyone can recompute it:
//
//	cd model && find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum
//
// # Manifest
//
// The manifest is an in-toto Statement v1 shaped like the OpenSSF model
// signing (sigstore/model-transparency) v1.0 payload: one subject naming the
// version, a predicate with the serialization method and one resource per
// file. It adds the registration it vouches for (model name, version, run
// id), and its subject digest is Digest, which covers the paths as well as
// the contents (the OpenSSF root digest hashes the file digests only).
// Manifest.Marshal gives the exact bytes that are signed: compact JSON,
// fields in the order below, resources sorted by name, one final newline.
//
//	{"_type":"https://in-toto.io/Statement/v1",
//	 "subject":[{"name":"models:/NAME/VERSION","digest":{"sha256":"<Digest>"}}],
//	 "predicateType":"https://github.com/creditrisk/engine/model-signature/v1",
//	 "predicate":{"serialization":{"method":"files","hash_type":"sha256","allow_symlinks":false},
//	   "resources":[{"name":"MLmodel","algorithm":"sha256","digest":"<hex>"}, …],
//	   "model":{"name":"NAME","version":"VERSION","run_id":"RUN_ID"}}}
//
// The signature is a plain Ed25519 signature (RFC 8032, no pre-hash, no
// envelope) of those bytes, so standard tools verify it:
//
//	openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in model_manifest.json -sigfile model_manifest.sig
//
// Keys are PEM files: the private key PKCS#8 ("PRIVATE KEY", as `openssl
// genpkey -algorithm ed25519` writes it), the public key SubjectPublicKeyInfo
// ("PUBLIC KEY", `openssl pkey -in key.pem -pubout`). KeyID is the SHA-256 of
// the public key's DER form, as `openssl pkey -pubin -in pub.pem -outform DER
// | sha256sum` prints it.
//
// Every decoder here bounds its input: HashDir (MaxFiles files), Parse
// (MaxManifestSize bytes, MaxFiles resources) and the key readers
// (maxKeySize bytes).
package integrity

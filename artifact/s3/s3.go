// Package s3 is the artifact store for s3:// URIs: it writes and reads the
// objects directly (as MLflow's S3ArtifactRepository does with boto3), with
// minio-go, against AWS S3 or an S3-compatible server such as MinIO.
//
// It is configured by the variables MLflow's Python client reads (EnvConfig
// turns them into a Config; the store itself reads no environment):
//
//	MLFLOW_S3_ENDPOINT_URL   e.g. http://127.0.0.1:9000 (default: AWS S3); path-style addressing
//	AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
//	AWS_DEFAULT_REGION       (AWS_REGION as a fallback)
//	MLFLOW_S3_IGNORE_TLS     true: skip certificate verification
//
// Without explicit keys, credentials come from the AWS credentials file and
// the instance metadata service. minio-go retries failed requests itself.
package s3

import (
	"context"
	"crypto/tls"
	"fmt"
	"io/fs"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/creditrisk/engine/artifact/internal/tree"
	"github.com/creditrisk/engine/mlflow"
)

// Config says how to reach the S3 service.
type Config struct {
	// Endpoint is the service URL, http:// or https://; "" means AWS S3.
	Endpoint string
	// AccessKey and SecretKey (with SessionToken for temporary
	// credentials); when AccessKey is empty the AWS credentials file and
	// instance metadata are tried.
	AccessKey, SecretKey, SessionToken string
	Region                             string
	// InsecureTLS skips verification of the server's certificate.
	InsecureTLS bool
}

// EnvConfig reads the configuration from the variables MLflow's Python
// client reads, through getenv (os.Getenv at the command line's edge).
func EnvConfig(getenv func(string) string) Config {
	region := getenv("AWS_DEFAULT_REGION")
	if region == "" {
		region = getenv("AWS_REGION")
	}
	ignore := strings.ToLower(strings.TrimSpace(getenv("MLFLOW_S3_IGNORE_TLS")))
	return Config{
		Endpoint:     getenv("MLFLOW_S3_ENDPOINT_URL"),
		AccessKey:    getenv("AWS_ACCESS_KEY_ID"),
		SecretKey:    getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: getenv("AWS_SESSION_TOKEN"),
		Region:       region,
		InsecureTLS:  ignore == "true" || ignore == "1" || ignore == "yes",
	}
}

// NewMinioClient builds the minio-go client for cfg (also useful to tests
// that look at the bucket directly).
func NewMinioClient(cfg Config) (*minio.Client, error) {
	host, secure, lookup := "s3.amazonaws.com", true, minio.BucketLookupAuto
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("s3 endpoint %q: %w", cfg.Endpoint, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("s3 endpoint %q: want http://host[:port] or https://host[:port]", cfg.Endpoint)
		}
		if strings.Trim(u.Path, "/") != "" {
			return nil, fmt.Errorf("s3 endpoint %q: a path after the host is not supported", cfg.Endpoint)
		}
		// Self-hosted servers (MinIO) rarely have a DNS name per bucket:
		// address buckets by path, as MLflow's boto3 client effectively does.
		host, secure, lookup = u.Host, u.Scheme == "https", minio.BucketLookupPath
	}
	var creds *credentials.Credentials
	if cfg.AccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken)
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{},
			&credentials.IAM{},
		})
	}
	opts := &minio.Options{Creds: creds, Secure: secure, Region: cfg.Region, BucketLookup: lookup}
	if cfg.InsecureTLS && secure {
		tr, err := minio.DefaultTransport(true)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} //nolint:gosec // only when asked for
		opts.Transport = tr
	}
	mc, err := minio.New(host, opts)
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s: %w", host, err)
	}
	return mc, nil
}

// ParseURI splits s3://bucket/prefix into the bucket and the key prefix
// (without slashes at either end).
func ParseURI(uri string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", fmt.Errorf("s3 URI %q does not start with s3://", uri)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("s3 URI %q has no bucket", uri)
	}
	if strings.ContainsAny(bucket, "?#") || strings.ContainsAny(prefix, "?#") {
		return "", "", fmt.Errorf("s3 URI %q: query strings and fragments are not supported", uri)
	}
	if strings.ContainsRune(prefix, 0) {
		return "", "", fmt.Errorf("s3 URI %q contains a NUL byte", uri)
	}
	return bucket, strings.Trim(prefix, "/"), nil
}

// Store keeps artifacts as objects below a key prefix of a bucket.
type Store struct {
	uri    string
	mc     *minio.Client
	bucket string
	prefix string
}

// New opens the store at uri (s3://bucket/prefix) with cfg.
func New(uri string, cfg Config) (*Store, error) {
	bucket, prefix, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	mc, err := NewMinioClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Store{uri: uri, mc: mc, bucket: bucket, prefix: prefix}, nil
}

// URI is the URI the store was opened at.
func (s *Store) URI() string { return s.uri }

// key returns the clean artifact path and its object key.
func (s *Store) key(artifactPath string) (string, string, error) {
	p, err := tree.Clean(artifactPath)
	if err != nil {
		return "", "", err
	}
	return p, tree.Join(s.prefix, p), nil
}

// notExist marks err, when S3 says the object or bucket is missing, as
// fs.ErrNotExist.
func notExist(err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, minio.NoSuchBucket:
		return fmt.Errorf("%w: %w", fs.ErrNotExist, err)
	}
	return err
}

// Upload puts the local file at artifactPath (the file's own path in the
// store, e.g. "model/MLmodel").
func (s *Store) Upload(ctx context.Context, localPath, artifactPath string) error {
	p, key, err := s.key(artifactPath)
	if err != nil {
		return fmt.Errorf("upload %s: %w", localPath, err)
	}
	if p == "" {
		return fmt.Errorf("upload %s: empty artifact path", localPath)
	}
	_, err = s.mc.FPutObject(ctx, s.bucket, key, localPath, minio.PutObjectOptions{ContentType: tree.ContentType(p)})
	if err != nil {
		return fmt.Errorf("upload %s to s3://%s/%s: %w", localPath, s.bucket, key, notExist(err))
	}
	return nil
}

// uploads is how many objects UploadDir puts at once: S3 and MinIO serve
// many requests in parallel, and one at a time leaves the connection idle
// while each waits for its answer.
const uploads = 8

// UploadDir puts the files below localDir at artifactPath/<relative path>,
// several at once. When one fails, no further upload starts and the error
// names the first failed file in path order; files beside it may be stored.
func (s *Store) UploadDir(ctx context.Context, localDir, artifactPath string) error {
	p, _, err := s.key(artifactPath)
	if err != nil {
		return fmt.Errorf("upload %s: %w", localDir, err)
	}
	return tree.UploadAll(localDir, p, uploads, func(local, dst string) error {
		return s.Upload(ctx, local, dst)
	})
}

// List returns the entries directly under artifactPath, with paths relative
// to the store's root, in key order. "Directories" are the common prefixes
// of the keys; a missing one lists as empty.
func (s *Store) List(ctx context.Context, artifactPath string) ([]mlflow.FileInfo, error) {
	p, key, err := s.key(artifactPath)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", artifactPath, err)
	}
	dir := key
	if dir != "" {
		dir += "/"
	}
	var out []mlflow.FileInfo
	for obj := range s.mc.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: dir}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.bucket, dir, notExist(obj.Err))
		}
		name, isDir := strings.CutSuffix(strings.TrimPrefix(obj.Key, dir), "/")
		if name == "" || strings.Contains(name, "/") {
			continue // the directory's own marker object
		}
		fi := mlflow.FileInfo{Path: tree.Join(p, name), IsDir: isDir}
		if !isDir {
			fi.Size = obj.Size
		}
		out = append(out, fi)
	}
	return out, nil
}

// Download copies the artifact at artifactPath to localPath: an object to
// the file localPath, a "directory" (every key below it) into the directory
// localPath. A missing artifact gives an error matching fs.ErrNotExist.
func (s *Store) Download(ctx context.Context, artifactPath, localPath string) error {
	p, key, err := s.key(artifactPath)
	if err != nil {
		return fmt.Errorf("download %s: %w", artifactPath, err)
	}
	if key != "" {
		_, err := s.mc.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
		if err == nil {
			return s.get(ctx, key, localPath)
		}
		if code := minio.ToErrorResponse(err).Code; code != minio.NoSuchKey && code != "NotFound" {
			return fmt.Errorf("download s3://%s/%s: %w", s.bucket, key, notExist(err))
		}
	}
	dir := key
	if dir != "" {
		dir += "/"
	}
	n := 0
	for obj := range s.mc.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: dir, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("download s3://%s/%s: %w", s.bucket, dir, notExist(obj.Err))
		}
		rel := strings.TrimPrefix(obj.Key, dir)
		if rel == "" || strings.HasSuffix(rel, "/") {
			continue // directory marker objects
		}
		dst, err := tree.Target(localPath, rel)
		if err != nil {
			return fmt.Errorf("download s3://%s/%s: %w", s.bucket, obj.Key, err)
		}
		if err := s.get(ctx, obj.Key, dst); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("download %s (s3://%s/%s): %w", p, s.bucket, key, fs.ErrNotExist)
	}
	return nil
}

func (s *Store) get(ctx context.Context, key, dst string) error {
	obj, err := s.mc.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return fmt.Errorf("download s3://%s/%s: %w", s.bucket, key, notExist(err))
	}
	defer obj.Close()
	r, err := tree.Limit(ctx, obj)
	if err != nil {
		return fmt.Errorf("download s3://%s/%s: %w", s.bucket, key, err)
	}
	if err := tree.WriteFile(dst, r, 0o666); err != nil {
		return fmt.Errorf("download s3://%s/%s: %w", s.bucket, key, notExist(err))
	}
	return nil
}

package tracking

import (
	"fmt"
	"strings"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/mlflow"
)

// DefaultLocalStore is the local store's folder when no tracking URI is
// set, as for MLflow's Python client.
const DefaultLocalStore = "mlruns"

// Config says which backend to open and how to reach it. The command line
// reads it from the environment once (MLFLOW_TRACKING_URI, the Python
// client's auth, TLS and retry variables, the S3 variables) and passes it
// down; nothing below reads the environment.
type Config struct {
	// URI is the tracking URI: http(s)://… for a server; file:…, a path or
	// "" (DefaultLocalStore) for a local store.
	URI string
	// Client configures the REST client of a server (auth, TLS, retries,
	// timeouts, user agent).
	Client []mlflow.Option
	// S3 reaches s3:// artifact roots of a server's runs.
	S3 s3.Config
}

// Open opens the backend cfg.URI names. A local store is not created
// until something is written to it.
func Open(cfg Config) (Backend, error) {
	uri := strings.TrimSpace(cfg.URI)
	if IsLocal(uri) {
		if uri == "" {
			uri = DefaultLocalStore
		}
		st, err := filestore.Open(uri)
		if err != nil {
			return nil, fmt.Errorf("local tracking store %s: %w", uri, err)
		}
		return st, nil
	}
	c, err := mlflow.NewClient(uri, cfg.Client...)
	if err != nil {
		return nil, err
	}
	return NewServer(c, cfg.S3), nil
}

// NewServer is the Backend of the tracking server c talks to, with s3 for
// the s3:// artifact roots of its runs (and c itself for
// mlflow-artifacts: roots).
func NewServer(c *mlflow.Client, s3 s3.Config) Backend {
	return &server{Client: c, s3: s3}
}

// IsLocal reports whether a tracking URI names a local store: empty, a
// file: URI or a path without a scheme (MLflow reads a plain path so too).
func IsLocal(uri string) bool {
	scheme, _, ok := strings.Cut(uri, ":")
	// One letter is a Windows drive; a slash or dot belongs to a path.
	return !ok || scheme == "file" || len(scheme) == 1 || strings.ContainsAny(scheme, `/\.`)
}

// server is the Backend of an MLflow tracking server: the REST client,
// with the artifact stores its runs' URIs name.
type server struct {
	*mlflow.Client
	s3 s3.Config
}

func (s *server) Artifacts(uri string) (artifact.Store, error) {
	return artifact.Open(uri, artifact.Config{S3: s.s3, Proxy: s.Client})
}

var (
	_ Backend = (*server)(nil)
	_ Backend = (*filestore.Store)(nil)
)

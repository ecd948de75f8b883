package artifact_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/artifact/proxy"
	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
)

// minioClient talks to the stack's MinIO, to check what the stores wrote.
func minioClient(t *testing.T) *minio.Client {
	t.Helper()
	endpoint, key, secret := testkit.S3(t)
	mc, err := s3.NewMinioClient(s3.Config{Endpoint: endpoint, AccessKey: key, SecretKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

// objects lists every key below prefix of bucket, relative to prefix.
func objects(t *testing.T, mc *minio.Client, bucket, prefix string) map[string]minio.ObjectInfo {
	t.Helper()
	out := map[string]minio.ObjectInfo{}
	for obj := range mc.ListObjectsIter(t.Context(), bucket, minio.ListObjectsOptions{Prefix: prefix + "/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatalf("list s3://%s/%s: %v", bucket, prefix, obj.Err)
		}
		out[strings.TrimPrefix(obj.Key, prefix+"/")] = obj
	}
	return out
}

// removeAll deletes the objects a test wrote below prefix.
func removeAll(t *testing.T, mc *minio.Client, bucket, prefix string) {
	ctx := context.Background() // t.Context() is done during cleanup
	objs := mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix + "/", Recursive: true})
	for e := range mc.RemoveObjects(ctx, bucket, objs, minio.RemoveObjectsOptions{}) {
		t.Errorf("remove %s: %v", e.ObjectName, e.Err)
	}
}

// checkBucket verifies that the sample (under "model") and the single
// note are objects below prefix, byte for byte, with content types.
func checkBucket(t *testing.T, mc *minio.Client, bucket, prefix string) {
	t.Helper()
	objs := objects(t, mc, bucket, prefix)
	var want []string
	for rel := range sample {
		want = append(want, "model/"+rel)
	}
	want = append(want, "notes/n1.txt")
	got := slices.Sorted(func(yield func(string) bool) {
		for k := range objs {
			if !yield(k) {
				return
			}
		}
	})
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("objects below s3://%s/%s:\n got  %q\n want %q", bucket, prefix, got, want)
	}
	for rel, data := range sample {
		key := prefix + "/model/" + rel
		obj, err := mc.GetObject(t.Context(), bucket, key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(obj)
		obj.Close()
		if err != nil {
			t.Fatalf("read %s: %v", key, err)
		}
		if !bytes.Equal(b, data) {
			t.Errorf("object %s differs from the local file", key)
		}
	}
}

func checkContentTypes(t *testing.T, mc *minio.Client, bucket, prefix string) {
	t.Helper()
	for rel, want := range map[string]string{
		"model/MLmodel":          "application/yaml",
		"model/data/schema.json": "application/json",
		"model/model.lgb":        "text/plain; charset=utf-8",
		"model/empty.bin":        "application/octet-stream",
	} {
		st, err := mc.StatObject(t.Context(), bucket, prefix+"/"+rel, minio.StatObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if st.ContentType != want {
			t.Errorf("%s: content type %q, want %q", rel, st.ContentType, want)
		}
	}
}

// TestS3Store runs the store checks straight against MinIO and looks at
// the bucket itself.
func TestS3Store(t *testing.T) {
	mc := minioClient(t)
	prefix := "artifact-tests/" + suffix(t)
	t.Setenv("AWS_SESSION_TOKEN", "")
	st, err := open("s3://mlflow/"+prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAll(t, mc, "mlflow", prefix) })
	exercise(t, st)
	checkBucket(t, mc, "mlflow", prefix)
	checkContentTypes(t, mc, "mlflow", prefix)

	// A bucket that does not exist is fs.ErrNotExist too.
	nb, err := open("s3://no-such-bucket-"+suffix(t)+"/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := nb.Download(t.Context(), "a.txt", filepath.Join(t.TempDir(), "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("download from a missing bucket: %v, want fs.ErrNotExist", err)
	}
	if _, err := nb.List(t.Context(), ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("list of a missing bucket: %v, want fs.ErrNotExist", err)
	}
}

// TestS3BadCredentials: a wrong secret is an error naming the object, not
// a hang or a silent success.
func TestS3BadCredentials(t *testing.T) {
	endpoint, key, _ := testkit.S3(t)
	st, err := s3.New("s3://mlflow/artifact-tests/"+suffix(t), s3.Config{Endpoint: endpoint, AccessKey: key, SecretKey: "wrong-secret"})
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "f.txt")
	writeTree(t, filepath.Dir(src), map[string][]byte{"f.txt": []byte("x")})
	err = st.Upload(t.Context(), src, "f.txt")
	if err == nil || !strings.Contains(err.Error(), "f.txt") {
		t.Fatalf("upload with a wrong secret: %v", err)
	}
	if !strings.Contains(strings.ToLower(err.Error()), "signature") {
		t.Errorf("upload with a wrong secret: %v, want the server's signature complaint", err)
	}
}

// clients gives a client per real MLflow server.
func clients(t *testing.T) map[string]*mlflow.Client {
	t.Helper()
	out := map[string]*mlflow.Client{}
	for _, s := range testkit.Servers(t) {
		c, err := mlflow.NewClient(s.URI, mlflow.WithRetries(2, 100*time.Millisecond, 50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		out[s.Name] = c
	}
	return out
}

func newRun(t *testing.T, c *mlflow.Client, artifactLocation string) *mlflow.Run {
	t.Helper()
	id, err := c.CreateExperiment(t.Context(), mlflow.CreateExperimentRequest{Name: "artifact-test-" + suffix(t), ArtifactLocation: artifactLocation})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.CreateRun(t.Context(), mlflow.CreateRunRequest{ExperimentID: id, RunName: "artifact-test"})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// sameListing compares a store's listing with the tracking server's
// artifacts/list of the run.
func sameListing(t *testing.T, c *mlflow.Client, st artifact.Store, runID string) {
	t.Helper()
	for _, dir := range []string{"", "model", "model/data", "model/data/deep"} {
		ours, err := st.List(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := c.ListArtifacts(t.Context(), runID, dir)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names(ours), names(theirs)) {
			t.Errorf("list %q:\n store  %q\n server %q", dir, names(ours), names(theirs))
		}
		if len(theirs) == 0 {
			t.Errorf("server lists nothing under %q", dir)
		}
	}
}

// TestRunArtifactsS3: runs on both servers get s3:// roots (the stack's
// --default-artifact-root); the Go client writes to MinIO itself, and the
// server lists the same files.
func TestRunArtifactsS3(t *testing.T) {
	mc := minioClient(t)
	for server, c := range clients(t) {
		t.Run(server, func(t *testing.T) {
			run := newRun(t, c, "")
			st, err := open(run.Info.ArtifactURI, c)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := st.(*s3.Store); !ok {
				t.Fatalf("run root %s opened as %T, want the S3 store", run.Info.ArtifactURI, st)
			}
			exercise(t, st)
			bucket, prefix, err := s3.ParseURI(run.Info.ArtifactURI)
			if err != nil {
				t.Fatal(err)
			}
			checkBucket(t, mc, bucket, prefix)
			sameListing(t, c, st, run.Info.RunID)

			// The model's own root reads the same files.
			model, err := open(run.Info.ArtifactURI+"/model", c)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(t.TempDir(), "m")
			if err := model.Download(t.Context(), "", dst); err != nil {
				t.Fatal(err)
			}
			sameTree(t, readTree(t, dst), sample)
		})
	}
}

// TestProxyStore: an experiment whose artifact location is
// mlflow-artifacts:/… makes its runs go through the tracking server, which
// writes to its --artifacts-destination in MinIO.
func TestProxyStore(t *testing.T) {
	mc := minioClient(t)
	dest := map[string]string{"3.x": "mlflow", "2.9.2": "mlflow2"} // scripts/stack's destinations: s3://<bucket>/mlartifacts
	for server, c := range clients(t) {
		t.Run(server, func(t *testing.T) {
			root := "proxytest-" + suffix(t)
			run := newRun(t, c, "mlflow-artifacts:/"+root)
			st, err := open(run.Info.ArtifactURI, c)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := st.(*proxy.Store); !ok {
				t.Fatalf("run root %s opened as %T, want the proxy store", run.Info.ArtifactURI, st)
			}
			exercise(t, st)
			sameListing(t, c, st, run.Info.RunID)
			_, under, err := proxy.ParseURI(run.Info.ArtifactURI)
			if err != nil {
				t.Fatal(err)
			}
			checkBucket(t, mc, dest[server], "mlartifacts/"+under)

			// The proxy's delete removes a directory.
			if err := c.DeleteProxyArtifact(t.Context(), under+"/notes"); err != nil {
				t.Fatal(err)
			}
			if got, err := st.List(t.Context(), "notes"); err != nil || len(got) != 0 {
				t.Errorf("after delete: %q, %v", names(got), err)
			}
			if got := objects(t, mc, dest[server], "mlartifacts/"+under+"/notes"); len(got) != 0 {
				t.Errorf("objects left after delete: %v", got)
			}
		})
	}
}

// TestProxyStoreAuth: proxy calls carry the client's credentials on the
// basic-auth server, and fail clearly without them.
func TestProxyStoreAuth(t *testing.T) {
	uri, user, password := testkit.AuthServer(t)
	c, err := mlflow.NewClient(uri, mlflow.WithBasicAuth(user, password), mlflow.WithRetries(1, 100*time.Millisecond, 0))
	if err != nil {
		t.Fatal(err)
	}
	run := newRun(t, c, "mlflow-artifacts:/authtest-"+suffix(t))
	st, err := open(run.Info.ArtifactURI, c)
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeTree(t, src, map[string][]byte{"a.txt": []byte("auth")})
	if err := st.Upload(t.Context(), filepath.Join(src, "a.txt"), "x/a.txt"); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "a.txt")
	if err := st.Download(t.Context(), "x/a.txt", dst); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, filepath.Dir(dst)); string(got["a.txt"]) != "auth" {
		t.Errorf("read back %q", got["a.txt"])
	}

	anon, err := mlflow.NewClient(uri, mlflow.WithRetries(0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	ast, err := open(run.Info.ArtifactURI, anon)
	if err != nil {
		t.Fatal(err)
	}
	err = ast.Upload(t.Context(), filepath.Join(src, "a.txt"), "x/b.txt")
	if !errors.Is(err, mlflow.ErrUnauthenticated) || strings.Contains(err.Error(), password) {
		t.Errorf("upload without credentials: %v, want ErrUnauthenticated", err)
	}
}

package artifact_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/artifact/proxy"
	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
)

// manyFiles is a directory of n small files f00, f01, … in two folders,
// more than any store uploads at once.
func manyFiles(n int) map[string][]byte {
	files := map[string][]byte{}
	for i := range n {
		files[fmt.Sprintf("%s/f%02d.bin", []string{"a", "b"}[i%2], i)] = randomBytes(1000 + i*997)
	}
	return files
}

// checkUploaded downloads artifactPath and compares it with want.
func checkUploaded(t *testing.T, st artifact.Store, artifactPath string, want map[string][]byte) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "down")
	if err := st.Download(t.Context(), artifactPath, dst); err != nil {
		t.Fatal(err)
	}
	sameTree(t, readTree(t, dst), want)
}

// TestUploadDirManyFiles: every store uploads a directory of more files
// than it sends at once, completely and byte for byte, on the real servers.
func TestUploadDirManyFiles(t *testing.T) {
	files := manyFiles(40)
	src := t.TempDir()
	writeTree(t, src, files)
	t.Run("file", func(t *testing.T) {
		st, err := open(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.UploadDir(t.Context(), src, "many"); err != nil {
			t.Fatal(err)
		}
		checkUploaded(t, st, "many", files)
	})
	for server, c := range clients(t) {
		for _, kind := range []string{"s3", "proxy"} {
			t.Run(server+"/"+kind, func(t *testing.T) {
				loc := ""
				if kind == "proxy" {
					loc = "mlflow-artifacts:/uploadtest-" + suffix(t)
				}
				run := newRun(t, c, loc)
				st, err := open(run.Info.ArtifactURI, c)
				if err != nil {
					t.Fatal(err)
				}
				if err := st.UploadDir(t.Context(), src, "many"); err != nil {
					t.Fatal(err)
				}
				checkUploaded(t, st, "many", files)
				// The tracking server sees them too.
				for _, dir := range []string{"many/a", "many/b"} {
					got, err := c.ListArtifacts(t.Context(), run.Info.RunID, dir)
					if err != nil || len(got) != 20 {
						t.Errorf("server lists %d files under %s: %v", len(got), dir, err)
					}
				}
			})
		}
	}
}

// TestUploadDirFileStoreFirstFailure: copies to f07 and f21 fail (a
// directory is in the way); the error names f07 whichever fails first,
// and the files before it are all stored.
func TestUploadDirFileStoreFirstFailure(t *testing.T) {
	files := map[string][]byte{}
	for i := range 30 {
		files[fmt.Sprintf("f%02d.txt", i)] = []byte(fmt.Sprint(i))
	}
	src := t.TempDir()
	writeTree(t, src, files)
	root := t.TempDir()
	for _, name := range []string{"f07.txt", "f21.txt"} {
		writeTree(t, filepath.Join(root, "up", name), map[string][]byte{"blocker": []byte("x")})
	}
	st, err := open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		err := st.UploadDir(t.Context(), src, "up")
		if err == nil || !strings.Contains(err.Error(), "up/f07.txt") {
			t.Fatalf("error %v, want one naming up/f07.txt", err)
		}
	}
	for i := range 7 {
		if b, err := os.ReadFile(filepath.Join(root, "up", fmt.Sprintf("f%02d.txt", i))); err != nil || string(b) != fmt.Sprint(i) {
			t.Errorf("f%02d.txt: %q, %v", i, b, err)
		}
	}
}

// TestUploadDirS3BadCredentials: with a wrong secret every upload fails;
// the error names the first file, not whichever answered first.
func TestUploadDirS3BadCredentials(t *testing.T) {
	endpoint, key, _ := testkit.S3(t)
	st, err := s3.New("s3://mlflow/artifact-tests/"+suffix(t), s3.Config{Endpoint: endpoint, AccessKey: key, SecretKey: "wrong-secret"})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeTree(t, src, manyFiles(20))
	for range 3 {
		err := st.UploadDir(t.Context(), src, "x")
		if err == nil || !strings.Contains(err.Error(), "a/f00.bin") {
			t.Fatalf("error %v, want one naming a/f00.bin", err)
		}
	}
}

// TestUploadDirProxyConcurrency: against a fake artifact proxy, uploads
// overlap but stay within the bound, and with two refused files the error
// names the first in path order even when the other is refused sooner.
func TestUploadDirProxyConcurrency(t *testing.T) {
	var inFlight, most atomic.Int32
	var mu sync.Mutex
	got := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut {
			http.Error(w, "unexpected", http.StatusTeapot)
			return
		}
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		b, _ := io.ReadAll(r.Body)
		name := strings.TrimPrefix(r.URL.Path, "/api/2.0/mlflow-artifacts/artifacts/root/")
		mu.Lock()
		got[name] = len(b)
		mu.Unlock()
		switch {
		case strings.HasSuffix(name, "f05.bin"):
			time.Sleep(100 * time.Millisecond)
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"error_code":"PERMISSION_DENIED","message":"no f05"}`)
			return
		case strings.HasSuffix(name, "f06.bin"):
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"error_code":"PERMISSION_DENIED","message":"no f06"}`)
			return
		}
		time.Sleep(20 * time.Millisecond)
		_, _ = io.WriteString(w, "{}")
	}))
	defer srv.Close()
	c, err := mlflow.NewClient(srv.URL, mlflow.WithRetries(0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	st, err := proxy.New("mlflow-artifacts:/root", c)
	if err != nil {
		t.Fatal(err)
	}
	files := manyFiles(12)
	ok := map[string][]byte{}
	for k, v := range files {
		if !strings.Contains(k, "f05") && !strings.Contains(k, "f06") {
			ok[k] = v
		}
	}
	src := t.TempDir()
	writeTree(t, src, ok)
	if err := st.UploadDir(t.Context(), src, "up"); err != nil {
		t.Fatal(err)
	}
	if m := most.Load(); m < 2 || m > 4 {
		t.Errorf("%d uploads at once, want 2 to 4", m)
	}
	for k, v := range ok {
		if got["up/"+k] != len(v) {
			t.Errorf("%s: server got %d bytes, want %d", k, got["up/"+k], len(v))
		}
	}
	// In path order a/f05 (refused after 100 ms) comes before b/f06
	// (refused at once); all four start together.
	bad := map[string][]byte{"a/f05.bin": []byte("5"), "a/f09.bin": []byte("9"), "b/f06.bin": []byte("6"), "a/f01.bin": []byte("1")}
	src2 := t.TempDir()
	writeTree(t, src2, bad)
	for range 3 {
		err := st.UploadDir(t.Context(), src2, "up")
		if err == nil || !strings.Contains(err.Error(), "up/a/f05.bin") || !strings.Contains(err.Error(), "no f05") {
			t.Fatalf("error %v, want a/f05.bin's (the first refused in path order)", err)
		}
	}
}

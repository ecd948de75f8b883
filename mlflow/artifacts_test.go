package mlflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestDecodeProxyList(t *testing.T) {
	for _, tt := range []struct {
		name, body, dir string
		want            []FileInfo
		bad             bool
	}{
		{name: "empty answer of a missing dir", body: `{}`, want: []FileInfo{}},
		{name: "no body", body: ``},
		{name: "files and dirs", dir: "1/r/artifacts",
			body: `{"files": [{"path": "model", "is_dir": true}, {"path": "a b.txt", "is_dir": false, "file_size": 12}]}`,
			want: []FileInfo{{Path: "1/r/artifacts/model", IsDir: true}, {Path: "1/r/artifacts/a b.txt", Size: 12}}},
		{name: "size as a string", body: `{"files": [{"path": "x", "file_size": "1234567890123"}]}`,
			want: []FileInfo{{Path: "x", Size: 1234567890123}}},
		{name: "unknown fields", body: `{"files": [{"path": "x", "file_size": 1, "extra": [1]}], "next_page_token": null}`,
			want: []FileInfo{{Path: "x", Size: 1}}},
		{name: "path with a slash", body: `{"files": [{"path": "../etc/passwd"}]}`, bad: true},
		{name: "dot dot", body: `{"files": [{"path": ".."}]}`, bad: true},
		{name: "empty path", body: `{"files": [{"path": ""}]}`, bad: true},
		{name: "negative size", body: `{"files": [{"path": "x", "file_size": -1}]}`, bad: true},
		{name: "fractional size", body: `{"files": [{"path": "x", "file_size": 1.5}]}`, bad: true},
		{name: "not JSON", body: `<html>502</html>`, bad: true},
		{name: "files not a list", body: `{"files": {}}`, bad: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeProxyList([]byte(tt.body), tt.dir)
			if tt.bad {
				if err == nil {
					t.Fatalf("decoded %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzDecodeProxyList(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"files": [{"path": "model", "is_dir": true}, {"path": "x.txt", "file_size": 3}]}`,
		`{"files": [{"path": "x", "file_size": "9"}]}`, `{"files": [{"path": "a/b"}]}`, `[]`, `null`, `{"files": null}`,
	} {
		f.Add([]byte(s), "1/run/artifacts")
	}
	f.Fuzz(func(t *testing.T, body []byte, dir string) {
		files, err := decodeProxyList(body, dir)
		if err != nil {
			return
		}
		for _, fi := range files {
			name := strings.TrimPrefix(fi.Path, dir+"/")
			if dir == "" {
				name = fi.Path
			}
			if name == "" || name == "." || name == ".." || strings.Contains(name, "/") || fi.Size < 0 {
				t.Fatalf("accepted entry %+v below %q", fi, dir)
			}
		}
	})
}

func TestProxyRequests(t *testing.T) {
	type req struct{ method, path, query, ctype, body string }
	var mu sync.Mutex
	var got []req
	c := regFake(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, req{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Content-Type"), string(b)})
		if r.Method == http.MethodGet && r.URL.Path == proxyPrefix {
			io.WriteString(w, `{"files": [{"path": "MLmodel", "file_size": 5}]}`)
			return
		}
		if r.Method == http.MethodGet {
			io.WriteString(w, "bytes")
		}
	})
	ctx := t.Context()
	if err := c.UploadProxyArtifact(ctx, "1/r/artifacts/a b/ü?.txt", strings.NewReader("data"), "text/plain"); err != nil {
		t.Fatal(err)
	}
	files, err := c.ListProxyArtifacts(ctx, "1/r/artifacts/model")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(files, []FileInfo{{Path: "1/r/artifacts/model/MLmodel", Size: 5}}) {
		t.Errorf("list: %+v", files)
	}
	rc, err := c.DownloadProxyArtifact(ctx, "1/r/artifacts/model/MLmodel")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "bytes" {
		t.Errorf("download: %q", b)
	}
	if err := c.DeleteProxyArtifact(ctx, "1/r/artifacts/model"); err != nil {
		t.Fatal(err)
	}
	want := []req{
		{"PUT", proxyPrefix + "/1/r/artifacts/a%20b/%C3%BC%3F.txt", "", "text/plain", "data"},
		{"GET", proxyPrefix, "path=1%2Fr%2Fartifacts%2Fmodel", "", ""},
		{"GET", proxyPrefix + "/1/r/artifacts/model/MLmodel", "", "", ""},
		{"DELETE", proxyPrefix + "/1/r/artifacts/model", "", "", ""},
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("requests:\n got  %q\n want %q", got, want)
	}
	for _, bad := range []string{"../x", "a/../../b", "a//b", "", "."} {
		if err := c.UploadProxyArtifact(ctx, bad, strings.NewReader(""), ""); err == nil {
			t.Errorf("upload to %q: no error", bad)
		}
	}
}

// TestListArtifactsPages follows next_page_token and decodes the tracking
// server's artifacts/list.
func TestListArtifactsPages(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	c := regFake(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		page := map[string]any{"root_uri": "s3://mlflow/1/r/artifacts"}
		switch r.URL.Query().Get("page_token") {
		case "":
			page["files"] = []map[string]any{{"path": "model/a", "is_dir": false, "file_size": 1}}
			page["next_page_token"] = "p2"
		case "p2":
			page["files"] = []map[string]any{{"path": "model/b", "is_dir": true}}
		}
		json.NewEncoder(w).Encode(page)
	})
	files, err := c.ListArtifacts(t.Context(), "r", "model")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(files, []FileInfo{{Path: "model/a", Size: 1}, {Path: "model/b", IsDir: true}}) {
		t.Errorf("files %+v", files)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(queries) != "[path=model&run_id=r page_token=p2&path=model&run_id=r]" {
		t.Errorf("queries %v", queries)
	}
}

func TestRunArtifactURIErrors(t *testing.T) {
	c := regFake(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run 'x' not found"}`)
	})
	_, err := c.RunArtifactURI(t.Context(), "x")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "run x") {
		t.Errorf("missing run: %v", err)
	}
}

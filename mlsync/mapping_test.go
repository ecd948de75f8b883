package mlsync

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMappingPath(t *testing.T) {
	tests := []struct{ uri, want string }{
		{"http://127.0.0.1:5000", ".sync-127.0.0.1_5000.json"},
		{"https://mlflow.example.com/", ".sync-mlflow.example.com.json"},
		{"https://user:pw@host:8443/prefix/mlflow", ".sync-host_8443_prefix_mlflow.json"},
	}
	for _, tt := range tests {
		if got := mappingPath("/r", tt.uri); got != filepath.Join("/r", tt.want) {
			t.Errorf("mappingPath(%q) = %q, want %q", tt.uri, got, tt.want)
		}
	}
}

func TestMappingRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".sync-x.json")
	m, err := loadMapping(path, "http://x")
	if err != nil {
		t.Fatal(err)
	}
	m.Runs["a"] = "b"
	m.Experiments["1"] = "7"
	m.setVersion("credit", "1", "4")
	if err := m.save(path); err != nil {
		t.Fatal(err)
	}
	got, err := loadMapping(path, "http://x")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("read back %+v, wrote %+v", got, m)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadMapping(path, "http://x"); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("broken mapping: %v; want an error naming %s", err, path)
	}
}

func FuzzLoadMapping(f *testing.F) {
	f.Add([]byte(`{"tracking_uri":"http://x","runs":{"a":"b"},"versions":{"m":{"1":"2"}}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"runs":null,"versions":{"m":null}}`))
	f.Add([]byte(`[`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "m.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := loadMapping(path, "http://x")
		if err != nil {
			return
		}
		if m.Runs == nil || m.Experiments == nil || m.Versions == nil {
			t.Fatalf("nil maps in %+v", m)
		}
		m.setVersion("m", "1", "2") // must not panic on a null inner map
	})
}

func TestLocalPath(t *testing.T) {
	tests := []struct {
		uri, want string
		ok        bool
	}{
		{"file:///tmp/mlruns/1/abc/artifacts", "/tmp/mlruns/1/abc/artifacts", true},
		{"/tmp/a", "/tmp/a", true},
		{"s3://bucket/x", "", false},
	}
	for _, tt := range tests {
		got, err := localPath(tt.uri)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("localPath(%q) = %q, %v", tt.uri, got, err)
		}
	}
}

func TestQuote(t *testing.T) {
	tests := map[string]string{"credit": "'credit'", "it's": `'it\'s'`, `a\b`: `'a\\b'`}
	for in, want := range tests {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}

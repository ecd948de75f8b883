package proxy

import (
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	for _, tt := range []struct {
		uri, host, root string
		bad             bool
	}{
		{uri: "mlflow-artifacts:/1/abc/artifacts", root: "1/abc/artifacts"},
		{uri: "mlflow-artifacts:/", root: ""},
		{uri: "mlflow-artifacts:", root: ""},
		{uri: "mlflow-artifacts://127.0.0.1:5000/1/abc", host: "127.0.0.1:5000", root: "1/abc"},
		{uri: "mlflow-artifacts:///1/abc", root: "1/abc"},
		{uri: "mlflow-artifacts:/a%20b/c", root: "a b/c"},
		{uri: "mlflow-artifacts:/1/../x", bad: true},
		{uri: "mlflow-artifacts:/x?y=1", bad: true},
		{uri: "mlflow-artifacts://user:pw@host/x", bad: true},
		{uri: "s3://b/x", bad: true},
	} {
		h, r, err := ParseURI(tt.uri)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseURI(%q) = %q, %q; want an error", tt.uri, h, r)
			}
			continue
		}
		if err != nil || h != tt.host || r != tt.root {
			t.Errorf("ParseURI(%q) = %q, %q, %v; want %q, %q", tt.uri, h, r, err, tt.host, tt.root)
		}
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"mlflow-artifacts:/1/a/artifacts", "mlflow-artifacts://h:1/x", "mlflow-artifacts:/../x", "mlflow-artifacts:%zz", "mlflow-artifacts:/a//b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		_, root, err := ParseURI(uri)
		if err != nil {
			return
		}
		for _, part := range strings.Split(root, "/") {
			if root != "" && (part == "" || part == "." || part == "..") {
				t.Fatalf("ParseURI(%q): root %q has part %q", uri, root, part)
			}
		}
	})
}

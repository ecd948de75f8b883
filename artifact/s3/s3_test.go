package s3

import (
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	for _, tt := range []struct {
		uri, bucket, prefix string
		bad                 bool
	}{
		{uri: "s3://mlflow/1/abc/artifacts", bucket: "mlflow", prefix: "1/abc/artifacts"},
		{uri: "s3://mlflow/", bucket: "mlflow"},
		{uri: "s3://mlflow", bucket: "mlflow"},
		{uri: "s3://b/p/with space/", bucket: "b", prefix: "p/with space"},
		{uri: "s3:///x", bad: true},
		{uri: "s3://", bad: true},
		{uri: "gs://b/x", bad: true},
		{uri: "s3://b/x?versionId=1", bad: true},
		{uri: "s3://b/x#frag", bad: true},
	} {
		b, p, err := ParseURI(tt.uri)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseURI(%q) = %q, %q; want an error", tt.uri, b, p)
			}
			continue
		}
		if err != nil || b != tt.bucket || p != tt.prefix {
			t.Errorf("ParseURI(%q) = %q, %q, %v; want %q, %q", tt.uri, b, p, err, tt.bucket, tt.prefix)
		}
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"s3://mlflow/1/a/artifacts", "s3://b", "s3:///", "s3://b//x//", "s3://b/x?y", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		b, p, err := ParseURI(uri)
		if err != nil {
			return
		}
		if b == "" || strings.ContainsAny(b, "/?#") {
			t.Fatalf("ParseURI(%q): bucket %q", uri, b)
		}
		if strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
			t.Fatalf("ParseURI(%q): prefix %q has slashes at an end", uri, p)
		}
	})
}

func TestEnvConfig(t *testing.T) {
	env := map[string]string{
		"MLFLOW_S3_ENDPOINT_URL": "https://minio.local:9000",
		"AWS_ACCESS_KEY_ID":      "id",
		"AWS_SECRET_ACCESS_KEY":  "secret",
		"AWS_SESSION_TOKEN":      "tok",
		"AWS_REGION":             "eu-west-1",
		"MLFLOW_S3_IGNORE_TLS":   "True",
	}
	getenv := func(k string) string { return env[k] }
	got := EnvConfig(getenv)
	want := Config{Endpoint: "https://minio.local:9000", AccessKey: "id", SecretKey: "secret", SessionToken: "tok", Region: "eu-west-1", InsecureTLS: true}
	if got != want {
		t.Errorf("EnvConfig = %+v, want %+v", got, want)
	}
	env["AWS_DEFAULT_REGION"] = "us-east-2"
	env["MLFLOW_S3_IGNORE_TLS"] = "false"
	if got := EnvConfig(getenv); got.Region != "us-east-2" || got.InsecureTLS {
		t.Errorf("AWS_DEFAULT_REGION wins and false is false: %+v", got)
	}
}

func TestNewMinioClientEndpoints(t *testing.T) {
	for _, tt := range []struct {
		endpoint string
		ok       bool
		secure   bool
	}{
		{"http://127.0.0.1:9000", true, false},
		{"https://minio.example.com", true, true},
		{"", true, true}, // AWS
		{"127.0.0.1:9000", false, false},
		{"ftp://x", false, false},
		{"http://x/sub/path", false, false},
	} {
		mc, err := NewMinioClient(Config{Endpoint: tt.endpoint, AccessKey: "a", SecretKey: "b", InsecureTLS: true})
		if (err == nil) != tt.ok {
			t.Errorf("NewMinioClient(%q): %v, want ok=%v", tt.endpoint, err, tt.ok)
			continue
		}
		if err == nil && (mc.EndpointURL().Scheme == "https") != tt.secure {
			t.Errorf("NewMinioClient(%q): endpoint %s", tt.endpoint, mc.EndpointURL())
		}
	}
}

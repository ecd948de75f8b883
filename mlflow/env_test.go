package mlflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEnvOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // substring; "" for success
		check   func(t *testing.T, c *Client)
	}{
		{"defaults", nil, "", func(t *testing.T, c *Client) {
			if c.retry != defaultRetry || c.timeout != 120*time.Second {
				t.Errorf("retry %+v timeout %v", c.retry, c.timeout)
			}
		}},
		{"retries", map[string]string{"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0.5", "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "7"}, "", func(t *testing.T, c *Client) {
			want := retryPolicy{max: 3, factor: 500 * time.Millisecond}
			if c.retry != want || c.timeout != 7*time.Second {
				t.Errorf("retry %+v timeout %v", c.retry, c.timeout)
			}
		}},
		{"basic and token", map[string]string{"MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p", "MLFLOW_TRACKING_TOKEN": "t"}, "", func(t *testing.T, c *Client) {
			if c.user != "u" || c.password != "p" || c.token != "t" {
				t.Errorf("auth %q %q %q", c.user, c.password, c.token)
			}
		}},
		{"insecure", map[string]string{"MLFLOW_TRACKING_INSECURE_TLS": "TRUE"}, "", func(t *testing.T, c *Client) {
			if !c.insecureTLS {
				t.Error("insecure not set")
			}
		}},
		{"bad bool", map[string]string{"MLFLOW_TRACKING_INSECURE_TLS": "yes"}, "MLFLOW_TRACKING_INSECURE_TLS", nil},
		{"insecure and cert", map[string]string{"MLFLOW_TRACKING_INSECURE_TLS": "true", "MLFLOW_TRACKING_SERVER_CERT_PATH": "/x.pem"}, "cannot both be set", nil},
		{"missing cert", map[string]string{"MLFLOW_TRACKING_SERVER_CERT_PATH": "/nonexistent/ca.pem"}, "server certificate", nil},
		{"missing client cert", map[string]string{"MLFLOW_TRACKING_CLIENT_CERT_PATH": "/nonexistent/c.pem"}, "client certificate", nil},
		{"bad retries", map[string]string{"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "11"}, "MLFLOW_HTTP_REQUEST_MAX_RETRIES", nil},
		{"bad factor", map[string]string{"MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "-1"}, "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", nil},
		{"bad timeout", map[string]string{"MLFLOW_HTTP_REQUEST_TIMEOUT": "NaN"}, "MLFLOW_HTTP_REQUEST_TIMEOUT", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, err := envOptions(func(k string) string { return tt.env[k] })
			var c *Client
			if err == nil {
				c, err = NewClient("http://127.0.0.1:1", opts...)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestNewClientFromEnvNeedsURI(t *testing.T) {
	t.Setenv("MLFLOW_TRACKING_URI", "")
	if _, err := NewClientFromEnv(os.Getenv); err == nil || !strings.Contains(err.Error(), "MLFLOW_TRACKING_URI") {
		t.Errorf("err %v", err)
	}
	t.Setenv("MLFLOW_TRACKING_URI", "http://u:pw12345@127.0.0.1:5000/")
	c, err := NewClientFromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.TrackingURI() != "http://127.0.0.1:5000" || c.password != "pw12345" {
		t.Errorf("uri %q", c.TrackingURI())
	}
}

func TestCredentialsFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "credentials")
	data := "# written by hand\n[default]\nmlflow_tracking_username = nobody\n\n[mlflow]\nMLFLOW_TRACKING_USERNAME = alice\nmlflow_tracking_password: s3cret = with equals\n; comment\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name               string
		env                map[string]string
		path               string
		wantUser, wantPass string
	}{
		{"file only", nil, path, "alice", "s3cret = with equals"},
		{"env wins per field", map[string]string{"MLFLOW_TRACKING_USERNAME": "bob"}, path, "bob", "s3cret = with equals"},
		{"missing file", nil, filepath.Join(t.TempDir(), "none"), "", ""},
		{"no file", map[string]string{"MLFLOW_TRACKING_PASSWORD": "p"}, "", "", "p"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := withCredentialsFile(func(k string) string { return tt.env[k] }, tt.path)
			if u, p := getenv("MLFLOW_TRACKING_USERNAME"), getenv("MLFLOW_TRACKING_PASSWORD"); u != tt.wantUser || p != tt.wantPass {
				t.Errorf("got %q/%q, want %q/%q", u, p, tt.wantUser, tt.wantPass)
			}
			if v := getenv("MLFLOW_TRACKING_TOKEN"); v != "" {
				t.Errorf("token %q from nowhere", v)
			}
		})
	}
}

func FuzzParseINI(f *testing.F) {
	for _, s := range []string{"[mlflow]\nmlflow_tracking_username = a\n", "[", "]\n=\n:", "[a]\n=x\nk\n", "[mlflow]\r\nk: v\r\n", "\xff[\x00]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for sec, kv := range parseINI(data) {
			for k := range kv {
				if k == "" || k != strings.ToLower(k) || strings.ContainsAny(sec+k, "\n") {
					t.Errorf("section %q key %q", sec, k)
				}
			}
		}
	})
}

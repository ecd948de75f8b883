package mlflow

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// NewClientFromEnv builds a client from MLFLOW_TRACKING_URI and the Python
// client's variables for auth, TLS, retries and timeouts (see the package
// documentation), read through getenv: os.Getenv at a program's edge (the
// package itself reads no environment). opts are applied after the
// environment's settings.
func NewClientFromEnv(getenv func(string) string, opts ...Option) (*Client, error) {
	uri := getenv("MLFLOW_TRACKING_URI")
	if uri == "" {
		return nil, fmt.Errorf("mlflow: MLFLOW_TRACKING_URI is not set")
	}
	envOpts, err := EnvOptions(getenv)
	if err != nil {
		return nil, err
	}
	return NewClient(uri, append(envOpts, opts...)...)
}

// credentialsPath is the Python client's ~/.mlflow/credentials.
func credentialsPath(getenv func(string) string) string {
	home := getenv("HOME")
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".mlflow", "credentials")
}

// withCredentialsFile lets the [mlflow] section of the credentials file
// (keys mlflow_tracking_username and mlflow_tracking_password) stand in for
// unset variables, as the Python client does. A missing or unreadable file
// is ignored, as there.
func withCredentialsFile(getenv func(string) string, path string) func(string) string {
	var file map[string]string
	if path != "" {
		if data, err := os.ReadFile(path); err == nil {
			file = parseINI(data)["mlflow"]
		}
	}
	return func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		switch name {
		case "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD":
			return file[strings.ToLower(name)]
		}
		return ""
	}
}

// parseINI reads the subset of Python's configparser format that a
// credentials file uses: [section] headers, "key = value" or "key: value"
// lines, # and ; comment lines. Keys are lower-cased, as configparser does;
// lines it cannot read are skipped.
func parseINI(data []byte) map[string]map[string]string {
	out := map[string]map[string]string{}
	section := ""
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "", line[0] == '#', line[0] == ';':
			continue
		case line[0] == '[' && strings.HasSuffix(line, "]"):
			section = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i <= 0 || section == "" {
			continue
		}
		if out[section] == nil {
			out[section] = map[string]string{}
		}
		out[section][strings.ToLower(strings.TrimSpace(line[:i]))] = strings.TrimSpace(line[i+1:])
	}
	return out
}

// EnvOptions turns the Python client's variables, read through getenv, into
// options: MLFLOW_TRACKING_USERNAME and _PASSWORD (else the [mlflow] section
// of ~/.mlflow/credentials), MLFLOW_TRACKING_TOKEN, the TLS variables and the
// retry and timeout variables. Every command that talks to a server gets
// the same client this way.
func EnvOptions(getenv func(string) string) ([]Option, error) {
	return envOptions(withCredentialsFile(getenv, credentialsPath(getenv)))
}

func envOptions(getenv func(string) string) ([]Option, error) {
	var opts []Option
	user, pass := getenv("MLFLOW_TRACKING_USERNAME"), getenv("MLFLOW_TRACKING_PASSWORD")
	if user != "" || pass != "" {
		opts = append(opts, WithBasicAuth(user, pass))
	}
	if tok := getenv("MLFLOW_TRACKING_TOKEN"); tok != "" {
		opts = append(opts, WithToken(tok))
	}
	if v := getenv("MLFLOW_TRACKING_INSECURE_TLS"); v != "" {
		b, err := envBool("MLFLOW_TRACKING_INSECURE_TLS", v)
		if err != nil {
			return nil, err
		}
		opts = append(opts, WithInsecureTLS(b))
	}
	if p := getenv("MLFLOW_TRACKING_SERVER_CERT_PATH"); p != "" {
		opts = append(opts, WithServerCert(p))
	}
	if p := getenv("MLFLOW_TRACKING_CLIENT_CERT_PATH"); p != "" {
		opts = append(opts, WithClientCert(p))
	}
	r := defaultRetry
	if v := getenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		// The Python client's _MLFLOW_HTTP_REQUEST_MAX_RETRIES_LIMIT is 10.
		if err != nil || n < 0 || n > 10 {
			return nil, fmt.Errorf("mlflow: MLFLOW_HTTP_REQUEST_MAX_RETRIES=%q: want an integer from 0 to 10", v)
		}
		r.max = n
	}
	if v := getenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"); v != "" {
		d, err := envSeconds("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", v, 120)
		if err != nil {
			return nil, err
		}
		r.factor = d
	}
	if v := getenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"); v != "" {
		d, err := envSeconds("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", v, 120)
		if err != nil {
			return nil, err
		}
		r.jitter = d
	}
	opts = append(opts, WithRetries(r.max, r.factor, r.jitter))
	if v := getenv("MLFLOW_HTTP_REQUEST_TIMEOUT"); v != "" {
		d, err := envSeconds("MLFLOW_HTTP_REQUEST_TIMEOUT", v, 24*3600)
		if err != nil {
			return nil, err
		}
		opts = append(opts, WithTimeout(d))
	}
	return opts, nil
}

// envBool accepts what the Python client's boolean variables accept.
func envBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("mlflow: %s=%q: want true, false, 1 or 0", name, v)
}

// envSeconds parses a non-negative number of seconds up to limit.
func envSeconds(name, v string, limit float64) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || f > limit || f != f {
		return 0, fmt.Errorf("mlflow: %s=%q: want a number of seconds from 0 to %g", name, v, limit)
	}
	return time.Duration(f * float64(time.Second)), nil
}

package mlflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// setup starts an httptest server mounted under /prefix (so a client that
// drops the tracking URI's path fails loudly) and a client for it with fast
// retries.
func setup(t *testing.T, h http.HandlerFunc, opts ...Option) *Client {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/prefix/", http.StripPrefix("/prefix", h))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the tracking URI's path: %s %s", r.Method, r.URL)
		http.Error(w, "wrong prefix", http.StatusTeapot)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	opts = append([]Option{WithRetries(3, time.Millisecond, 0)}, opts...)
	c, err := NewClient(srv.URL+"/prefix/", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func TestDoRequestShape(t *testing.T) {
	t.Parallel()
	type query struct {
		IDs   []string `json:"experiment_ids"`
		Max   int64    `json:"max_results,omitempty"`
		Token string   `json:"page_token,omitempty"`
		Flag  bool     `json:"flag"`
	}
	tests := []struct {
		name      string
		method    string
		in        any
		wantQuery string
		wantBody  string
	}{
		{"get struct repeats keys", "GET", query{IDs: []string{"1", "2"}, Max: 5, Flag: true}, "experiment_ids=1&experiment_ids=2&flag=true&max_results=5", ""},
		{"get values", "GET", url.Values{"run_id": {"a b"}}, "run_id=a+b", ""},
		{"get nil", "GET", nil, "", ""},
		{"post body", "POST", map[string]any{"name": "x"}, "", `{"name":"x"}`},
		{"post nil is empty object", "POST", nil, "", `{}`},
		{"delete body", "DELETE", map[string]string{"key": "k"}, "", `{"key":"k"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := setup(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != tt.method || r.URL.Path != "/api/2.0/mlflow/x" {
					t.Errorf("got %s %s", r.Method, r.URL.Path)
				}
				if r.URL.RawQuery != tt.wantQuery {
					t.Errorf("query %q, want %q", r.URL.RawQuery, tt.wantQuery)
				}
				b, _ := io.ReadAll(r.Body)
				if string(b) != tt.wantBody {
					t.Errorf("body %q, want %q", b, tt.wantBody)
				}
				if tt.method != "GET" && r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
				}
				writeJSON(w, 200, map[string]string{"answer": "ok"})
			})
			var out struct{ Answer string }
			if err := c.do(t.Context(), tt.method, "/api/2.0/mlflow/x", tt.in, &out); err != nil {
				t.Fatal(err)
			}
			if out.Answer != "ok" {
				t.Errorf("decoded %+v", out)
			}
		})
	}
}

func TestAuthHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		uri  func(base string) string
		opts []Option
		want string
	}{
		{"none", func(b string) string { return b }, nil, ""},
		{"basic", func(b string) string { return b }, []Option{WithBasicAuth("u", "p@ss")}, "Basic dTpwQHNz"},
		{"token", func(b string) string { return b }, []Option{WithToken("tok")}, "Bearer tok"},
		{"basic wins over token", func(b string) string { return b }, []Option{WithToken("tok"), WithBasicAuth("u", "p@ss")}, "Basic dTpwQHNz"},
		{"userinfo", func(b string) string { return strings.Replace(b, "http://", "http://u:p%40ss@", 1) }, nil, "Basic dTpwQHNz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got atomic.Value
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got.Store(r.Header.Get("Authorization"))
				writeJSON(w, 200, map[string]any{})
			}))
			t.Cleanup(srv.Close)
			c, err := NewClient(tt.uri(srv.URL), tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(c.TrackingURI(), "p@ss") || strings.Contains(c.TrackingURI(), "%40") {
				t.Errorf("TrackingURI %q holds the password", c.TrackingURI())
			}
			if err := c.do(t.Context(), "GET", "/x", nil, nil); err != nil {
				t.Fatal(err)
			}
			if got.Load().(string) != tt.want {
				t.Errorf("Authorization %q, want %q", got.Load(), tt.want)
			}
		})
	}
}

func TestUnauthenticatedHidesPassword(t *testing.T) {
	t.Parallel()
	c := setup(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		_, _ = io.WriteString(w, "You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html")
	}, WithBasicAuth("admin", "s3cr3t-pw"))
	err := c.do(t.Context(), "GET", "/api/2.0/mlflow/experiments/get", nil, nil)
	if !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("got %v, want ErrUnauthenticated", err)
	}
	if strings.Contains(err.Error(), "s3cr3t-pw") || !strings.Contains(err.Error(), "authentication failed") {
		t.Errorf("message %q", err)
	}
}

func TestNewClientRejects(t *testing.T) {
	t.Parallel()
	for _, uri := range []string{"file:///tmp/mlruns", "databricks", "http://", "http://u:hunter22@[::1", "sqlite:///x.db"} {
		_, err := NewClient(uri)
		if err == nil {
			t.Errorf("NewClient(%q) accepted", uri)
			continue
		}
		if strings.Contains(err.Error(), "hunter22") {
			t.Errorf("error %q shows the password", err)
		}
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    []int // answers in order; 200 afterwards
		once      bool  // doOnce
		wantCalls int32
		wantErr   error
	}{
		{"503 then ok", []int{503, 503}, false, 3, nil},
		{"500 502 504 408 429", []int{500, 502, 504}, false, 4, nil},
		{"408", []int{408}, false, 2, nil},
		{"429", []int{429}, false, 2, nil},
		{"400 never retried", []int{400}, false, 1, ErrInvalidParameter},
		{"404 never retried", []int{404}, false, 1, ErrEndpointNotFound},
		{"401 never retried", []int{401}, false, 1, ErrUnauthenticated},
		{"501 not retried", []int{501}, false, 1, ErrNotImplemented},
		{"gives up after max", []int{503, 503, 503, 503, 503}, false, 4, ErrUnavailable},
		{"once: 503 retried", []int{503}, true, 2, nil},
		{"once: 429 retried", []int{429}, true, 2, nil},
		{"once: 500 not retried", []int{500}, true, 1, ErrInternal},
		{"once: 502 not retried", []int{502}, true, 1, ErrInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			c := setup(t, func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1))
				b, _ := io.ReadAll(r.Body)
				if string(b) != `{"a":1}` {
					t.Errorf("attempt %d body %q", n, b)
				}
				if n <= len(tt.status) {
					w.WriteHeader(tt.status[n-1])
					_, _ = io.WriteString(w, "<html>busy</html>")
					return
				}
				writeJSON(w, 200, map[string]any{})
			})
			var err error
			if tt.once {
				err = c.doOnce(t.Context(), "POST", "/x", map[string]int{"a": 1}, nil)
			} else {
				err = c.do(t.Context(), "POST", "/x", map[string]int{"a": 1}, nil)
			}
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err %v, want %v", err, tt.wantErr)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("%d requests, want %d", got, tt.wantCalls)
			}
		})
	}
}

// hijackClose drops the connection without an answer.
func hijackClose(t *testing.T, w http.ResponseWriter) {
	t.Helper()
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	conn.Close()
}

func TestRetryDroppedConnection(t *testing.T) {
	t.Parallel()
	for _, once := range []bool{false, true} {
		var calls atomic.Int32
		c := setup(t, func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) <= 2 {
				hijackClose(t, w)
				return
			}
			writeJSON(w, 200, map[string]any{})
		})
		var err error
		if once {
			err = c.doOnce(t.Context(), "POST", "/x", nil, nil)
		} else {
			err = c.do(t.Context(), "POST", "/x", nil, nil)
		}
		switch {
		case !once && (err != nil || calls.Load() != 3):
			t.Errorf("do: err %v after %d requests, want success after 3", err, calls.Load())
		case once && (err == nil || calls.Load() != 1):
			// A dropped connection may have been handled: no replay.
			t.Errorf("doOnce: err %v after %d requests, want an error after 1", err, calls.Load())
		}
	}
}

func TestRetryRefusedConnectionEvenOnce(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there now
	c, err := NewClient(addr, WithRetries(2, time.Millisecond, 0))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = c.doOnce(t.Context(), "POST", "/x", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Errorf("err %v, want a refusal retried twice", err)
	}
	t.Logf("took %v", time.Since(start))
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	var first time.Time
	var calls atomic.Int32
	c := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			return
		}
		if d := time.Since(first); d < 900*time.Millisecond {
			t.Errorf("retried after %v despite Retry-After: 1", d)
		}
		writeJSON(w, 200, map[string]any{})
	})
	if err := c.do(t.Context(), "GET", "/x", nil, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCancelStopsRetries(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	c := setup(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(503)
	}, WithRetries(5, 10*time.Second, 0))
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := c.do(ctx, "GET", "/x", nil, nil)
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	if took > 5*time.Second { // the first backoff alone is 10 s
		t.Errorf("returned after %v", took)
	}
	if calls.Load() != 1 {
		t.Errorf("%d requests", calls.Load())
	}
}

func TestDoRawRereadsBody(t *testing.T) {
	t.Parallel()
	payload := bytes.Repeat([]byte("0123456789"), 100_000)
	var calls atomic.Int32
	c := setup(t, func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		if !bytes.Equal(b, payload) || r.ContentLength != int64(len(payload)) {
			t.Errorf("attempt %d: %d bytes (Content-Length %d), want %d", n, len(b), r.ContentLength, len(payload))
		}
		if r.Header.Get("Content-Type") != "application/octet-stream" || r.URL.Query().Get("p") != "1" {
			t.Errorf("headers %v query %v", r.Header, r.URL.Query())
		}
		if r.URL.EscapedPath() != "/api/2.0/mlflow-artifacts/artifacts/1/a%20b/m.txt" {
			t.Errorf("path %q", r.URL.EscapedPath())
		}
		if n == 1 {
			w.WriteHeader(503)
			return
		}
		_, _ = io.WriteString(w, "{}")
	})
	resp, err := c.doRaw(t.Context(), "PUT", "/api/2.0/mlflow-artifacts/artifacts/1/a b/m.txt", url.Values{"p": {"1"}}, bytes.NewReader(payload), "application/octet-stream")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if calls.Load() != 2 {
		t.Errorf("%d requests", calls.Load())
	}
}

func TestDoRawError(t *testing.T) {
	t.Parallel()
	c := setup(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, map[string]string{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no file"})
	})
	_, err := c.doRaw(t.Context(), "GET", "/f", nil, nil, "")
	var ae *APIError
	if !errors.As(err, &ae) || !errors.Is(err, ErrNotFound) || ae.Message != "no file" {
		t.Errorf("err %v", err)
	}
}

func TestDecodeErrorNamesCall(t *testing.T) {
	t.Parallel()
	c := setup(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "<html>") })
	var out struct{}
	err := c.do(t.Context(), "GET", "/api/2.0/mlflow/runs/get", nil, &out)
	if err == nil || !strings.Contains(err.Error(), "/api/2.0/mlflow/runs/get") {
		t.Errorf("err %v", err)
	}
}

func TestRetryTruncatedAnswer(t *testing.T) {
	t.Parallel()
	for _, once := range []bool{false, true} {
		var calls atomic.Int32
		c := setup(t, func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.Header().Set("Content-Length", "100")
				_, _ = io.WriteString(w, `{"runs":[`)
				http.NewResponseController(w).Flush()
				hijackClose(t, w)
				return
			}
			writeJSON(w, 200, map[string]any{"runs": []any{}})
		})
		var out struct{ Runs []any }
		var err error
		if once {
			err = c.doOnce(t.Context(), "POST", "/x", nil, &out)
		} else {
			err = c.do(t.Context(), "POST", "/x", nil, &out)
		}
		if once != (err != nil) || !once && calls.Load() != 2 || once && calls.Load() != 1 {
			t.Errorf("once=%v: err %v after %d requests", once, err, calls.Load())
		}
	}
}

func TestTimeoutPerAttempt(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	c := setup(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select { // never answers in time
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}, WithTimeout(100*time.Millisecond), WithRetries(1, time.Millisecond, 0))
	start := time.Now()
	err := c.do(t.Context(), "GET", "/x", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("err %v, want a timeout", err)
	}
	if calls.Load() != 2 || time.Since(start) > 5*time.Second {
		t.Errorf("%d attempts in %v, want 2 quick ones", calls.Load(), time.Since(start))
	}
}

// TestUnreachableGivesUpFast: with the default retry schedule (seven
// retries, about four minutes of waits), a server that cannot be reached is
// given up within DefaultUnreachableLimit, every retry announced, and the
// error names the server.
func TestUnreachableGivesUpFast(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there now
	var notices []RetryNotice
	c, err := NewClient(addr, WithRetryNotice(func(n RetryNotice) { notices = append(notices, n) }))
	if err != nil {
		t.Fatal(err)
	}
	err = c.do(t.Context(), "GET", "/api/2.0/mlflow/experiments/get", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "tracking server "+addr+" unreachable") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err %v, want one naming the unreachable server and the refusal", err)
	}
	var waited time.Duration
	for i, n := range notices {
		if !n.Unreachable || n.Server != addr || n.Attempt != i+2 || n.Attempts != 8 {
			t.Errorf("notice %d: %+v", i, n)
		}
		waited += n.Wait
	}
	if len(notices) < 2 || waited > DefaultUnreachableLimit {
		t.Errorf("%d retries waiting %v in all; want several within %v", len(notices), waited, DefaultUnreachableLimit)
	}
}

// TestLiveServerKeepsFullSchedule: the unreachable limit does not cut the
// retries of a live server's 503s.
func TestLiveServerKeepsFullSchedule(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL, WithRetries(3, 20*time.Millisecond, 0), WithUnreachableLimit(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.do(t.Context(), "GET", "/x", nil, nil); err == nil || calls.Load() != 4 {
		t.Errorf("err %v after %d calls, want 4 calls (3 retries)", err, calls.Load())
	}
}

package mlflow

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const userAgent = "creditrisk-engine-mlflow-go/1"

// Client talks to one MLflow tracking server. It is safe for concurrent use.
type Client struct {
	base      *url.URL // scheme, host and path prefix; never user information
	http      *http.Client
	ownHTTP   bool // http was built here, so the TLS and timeout options apply to it
	user      string
	password  string
	token     string
	retry     retryPolicy
	timeout   time.Duration
	userAgent string
	// unreachable bounds the retries of a server that cannot be reached
	// at all (refused, unresolvable, connect timeout); notice sees each
	// retry before its wait.
	unreachable time.Duration
	notice      func(RetryNotice)

	insecureTLS    bool
	serverCertPath string
	clientCertPath string

	// logged is whether the server has MLflow 3's logged models, asked
	// once (SupportsLoggedModels).
	logged loggedModels
}

// Option configures a Client in NewClient.
type Option func(*Client) error

// WithHTTPClient makes the client send with hc (its transport, timeouts and
// TLS settings); the TLS options and WithTimeout are then refused.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil *http.Client")
		}
		c.http = hc
		c.ownHTTP = false
		return nil
	}
}

// WithBasicAuth sends HTTP basic credentials (MLflow's basic-auth app). They
// take precedence over a token, as in the Python client.
func WithBasicAuth(user, password string) Option {
	return func(c *Client) error {
		c.user, c.password = user, password
		return nil
	}
}

// WithToken sends "Authorization: Bearer <token>".
func WithToken(token string) Option {
	return func(c *Client) error {
		c.token = token
		return nil
	}
}

// WithInsecureTLS skips verification of the server's certificate.
func WithInsecureTLS(insecure bool) Option {
	return func(c *Client) error {
		c.insecureTLS = insecure
		return nil
	}
}

// WithServerCert trusts the CA certificates in the PEM file at path (instead
// of the system pool) for the server's certificate.
func WithServerCert(path string) Option {
	return func(c *Client) error {
		c.serverCertPath = path
		return nil
	}
}

// WithClientCert presents the client certificate whose PEM file at path holds
// both the certificate and its private key (as Python's requests "cert").
func WithClientCert(path string) Option {
	return func(c *Client) error {
		c.clientCertPath = path
		return nil
	}
}

// WithRetries sets how many times a failed call is retried (0 disables
// retries), the backoff factor (the n-th retry waits factor·2^(n-1)) and the
// maximum random jitter added to each wait.
func WithRetries(max int, factor, jitter time.Duration) Option {
	return func(c *Client) error {
		if max < 0 || factor < 0 || jitter < 0 {
			return fmt.Errorf("WithRetries(%d, %v, %v): negative value", max, factor, jitter)
		}
		c.retry.max, c.retry.factor, c.retry.jitter = max, factor, jitter
		return nil
	}
}

// WithTimeout bounds, per attempt, connecting and waiting for the response
// headers (not the transfer of a large body). Zero means no limit.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("WithTimeout(%v): negative", d)
		}
		c.timeout = d
		return nil
	}
}

// DefaultUnreachableLimit is how long a client keeps retrying a server it
// cannot reach at all before giving up: long enough for a server being
// restarted, short enough that a wrong URI or a dead server costs seconds,
// not the four minutes of the full retry schedule, which stays for 429 and
// 5xx answers of a live server.
const DefaultUnreachableLimit = 15 * time.Second

// minConnectTimeout is the shortest connect timeout an unreachable limit
// sets.
const minConnectTimeout = time.Second

// WithUnreachableLimit bounds the time spent retrying a server that cannot
// be reached (connection refused, DNS failure, connect timeout); 0 leaves
// only the retry schedule. The connect timeout is bounded by it too (but
// is never under a second).
func WithUnreachableLimit(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("WithUnreachableLimit(%v): negative", d)
		}
		c.unreachable = d
		return nil
	}
}

// RetryNotice describes a retry about to happen, for a command to tell
// the user why it waits.
type RetryNotice struct {
	Method, Path string
	// Server is the tracking URI, without credentials.
	Server string
	// Attempt is the attempt about to be made (2 for the first retry), of
	// at most Attempts.
	Attempt, Attempts int
	Wait              time.Duration
	// Unreachable says the server could not be reached at all.
	Unreachable bool
	Err         error
}

// WithRetryNotice calls f before each retry's wait (from the goroutine
// making the call).
func WithRetryNotice(f func(RetryNotice)) Option {
	return func(c *Client) error {
		c.notice = f
		return nil
	}
}

// WithUserAgent replaces the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		c.userAgent = ua
		return nil
	}
}

// NewClient returns a client for the tracking server at trackingURI
// (http or https, with an optional path prefix). User information in the URI
// becomes basic-auth credentials unless WithBasicAuth is given.
func NewClient(trackingURI string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(trackingURI))
	if err != nil {
		// url.Parse errors quote the input, which may hold a password.
		return nil, fmt.Errorf("mlflow: tracking URI %q is not a URL", redactURI(trackingURI))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("mlflow: tracking URI %q: scheme must be http or https (file stores, databricks and other schemes are not served by this client)", redactURI(trackingURI))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("mlflow: tracking URI %q has no host", redactURI(trackingURI))
	}
	c := &Client{
		retry:       defaultRetry,
		timeout:     120 * time.Second,
		userAgent:   userAgent,
		ownHTTP:     true,
		unreachable: DefaultUnreachableLimit,
	}
	if u.User != nil {
		c.user = u.User.Username()
		c.password, _ = u.User.Password()
	}
	c.base = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimRight(u.Path, "/")}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, fmt.Errorf("mlflow: %w", err)
		}
	}
	if err := c.buildHTTP(); err != nil {
		return nil, fmt.Errorf("mlflow: %w", err)
	}
	return c, nil
}

// redactURI hides the password of a URL-like string, also when it does not parse.
func redactURI(s string) string {
	if u, err := url.Parse(s); err == nil {
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		return u.String()
	}
	if i := strings.Index(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "xxxxx" + s[i:]
		}
		return "xxxxx" + s[i:]
	}
	return s
}

func (c *Client) buildHTTP() error {
	tlsSet := c.insecureTLS || c.serverCertPath != "" || c.clientCertPath != ""
	if !c.ownHTTP {
		if tlsSet {
			return errors.New("TLS options cannot be combined with WithHTTPClient: configure that client's transport")
		}
		return nil
	}
	if c.insecureTLS && c.serverCertPath != "" {
		// The Python client refuses this combination too.
		return errors.New("MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH cannot both be set")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	connect := c.timeout
	if c.unreachable > 0 && (connect == 0 || c.unreachable < connect) {
		// A connect timeout shorter than a loaded machine's loopback dial
		// would call a live server unreachable.
		connect = max(c.unreachable, minConnectTimeout)
	}
	tr.DialContext = quickAckDial((&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext)
	tr.ResponseHeaderTimeout = c.timeout
	tr.MaxIdleConnsPerHost = 16
	if tlsSet {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.insecureTLS} //nolint:gosec // only when the user asks for it
		if c.serverCertPath != "" {
			pem, err := os.ReadFile(c.serverCertPath)
			if err != nil {
				return fmt.Errorf("read server certificate: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("server certificate %s: no PEM certificate found", c.serverCertPath)
			}
			cfg.RootCAs = pool
		}
		if c.clientCertPath != "" {
			pem, err := os.ReadFile(c.clientCertPath)
			if err != nil {
				return fmt.Errorf("read client certificate: %w", err)
			}
			cert, err := tls.X509KeyPair(pem, pem)
			if err != nil {
				return fmt.Errorf("client certificate %s (certificate and key in one PEM file): %w", c.clientCertPath, err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		tr.TLSClientConfig = cfg
	}
	c.http = &http.Client{Transport: tr}
	return nil
}

// TrackingURI is the server's base URL, without credentials.
func (c *Client) TrackingURI() string { return c.base.String() }

// requestURL joins the base URL and an unescaped API path.
func (c *Client) requestURL(path string, query url.Values) string {
	u := *c.base
	u.Path = c.base.Path + "/" + strings.TrimLeft(path, "/")
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	return u.String()
}

// do sends a JSON API call: path like "/api/2.0/mlflow/runs/create"; for GET
// in (a struct, map or url.Values) becomes the query string, otherwise it is
// the JSON body. out (may be nil) gets the decoded JSON answer. MLflow error
// answers come back as *APIError.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	return c.call(ctx, method, path, in, out, true)
}

// doOnce is do for calls that must not run twice on the server (creates
// without a unique name): it retries only when the first attempt cannot have
// reached the application (see retryable).
func (c *Client) doOnce(ctx context.Context, method, path string, in, out any) error {
	return c.call(ctx, method, path, in, out, false)
}

func (c *Client) call(ctx context.Context, method, path string, in, out any, replay bool) error {
	var query url.Values
	var body []byte
	if method == http.MethodGet || method == http.MethodHead {
		q, err := toQuery(in)
		if err != nil {
			return fmt.Errorf("mlflow: %s %s: encode query: %w", method, path, err)
		}
		query = q
	} else if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("mlflow: %s %s: encode body: %w", method, path, err)
		}
		body = b
	}
	newBody := func() (io.ReadCloser, int64) {
		if method == http.MethodGet || method == http.MethodHead {
			return nil, 0
		}
		if body == nil {
			body = []byte("{}")
		}
		return io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	var data []byte
	for attempt := 1; ; attempt++ {
		resp, err := c.send(ctx, method, path, query, newBody, "application/json", replay)
		if err != nil {
			return err
		}
		data, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			break
		}
		err = c.scrub(fmt.Errorf("mlflow: %s %s: read answer: %w", method, path, err))
		// The connection broke inside the answer: the call was handled,
		// so only a call that may be replayed is sent again.
		if !replay || attempt > c.retry.max || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(c.retry.backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("mlflow: %s %s: %w (while waiting to retry after: %v)", method, path, ctx.Err(), err)
		case <-t.C:
		}
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("mlflow: %s %s: decode answer (%s): %w", method, path, shortText(data[:min(len(data), 200)]), err)
	}
	return nil
}

// doRaw sends any request (file bodies for the artifact proxy) with the same
// auth, retries and error mapping as do. body may be nil; it is read from its
// start on each attempt. The caller closes resp.Body. Non-2xx is an error.
func (c *Client) doRaw(ctx context.Context, method, path string, query url.Values, body io.ReadSeeker, contentType string) (*http.Response, error) {
	var size int64 = -1
	if body != nil {
		n, err := body.Seek(0, io.SeekEnd)
		if err != nil {
			return nil, fmt.Errorf("mlflow: %s %s: size body: %w", method, path, err)
		}
		size = n
	}
	var prev *signalCloser
	return c.send(ctx, method, path, query, func() (io.ReadCloser, int64) {
		if body == nil {
			return nil, 0
		}
		if prev != nil {
			// The transport may still read the last attempt's body in
			// its own goroutine until it closes it; seeking before that
			// would race.
			select {
			case <-prev.done:
			case <-time.After(10 * time.Second):
			}
		}
		if _, err := body.Seek(0, io.SeekStart); err != nil {
			return errReader{fmt.Errorf("rewind body: %w", err)}, size
		}
		prev = &signalCloser{r: body, done: make(chan struct{})}
		return prev, size
	}, contentType, true)
}

// signalCloser keeps the transport from closing the caller's body and says
// when the transport is done with it.
type signalCloser struct {
	r    io.Reader
	done chan struct{}
	once sync.Once
}

func (s *signalCloser) Read(p []byte) (int, error) { return s.r.Read(p) }
func (s *signalCloser) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
func (e errReader) Close() error             { return nil }

// send runs the attempts of one call. newBody gives a fresh body per attempt.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, newBody func() (io.ReadCloser, int64), contentType string, replay bool) (*http.Response, error) {
	target := c.requestURL(path, query)
	start := time.Now()
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("mlflow: %s %s: %w", method, path, err)
		}
		rc, size := newBody()
		req, err := http.NewRequestWithContext(ctx, method, target, rc)
		if err != nil {
			return nil, c.scrub(fmt.Errorf("mlflow: %s %s: build request: %w", method, path, err))
		}
		if rc != nil {
			req.ContentLength = size
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.userAgent)
		switch {
		case c.user != "" || c.password != "":
			req.SetBasicAuth(c.user, c.password)
		case c.token != "":
			req.Header.Set("Authorization", "Bearer "+c.token)
		}

		resp, err := c.http.Do(req)
		var lastErr error
		var wait time.Duration
		retry, unreachable := false, false
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, fmt.Errorf("mlflow: %s %s: %w", method, path, ctxErr)
			}
			lastErr = c.scrub(fmt.Errorf("mlflow: %s %s: %w", method, path, err))
			retry = retryableErr(err, replay)
			unreachable = isUnreachable(err)
		} else if resp.StatusCode < 200 || resp.StatusCode > 299 {
			data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
			lastErr = parseError(resp.StatusCode, method, path, data)
			retry = retryableStatus(resp.StatusCode, replay)
			wait = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		} else {
			return resp, nil
		}
		if !retry || attempt >= c.retry.max {
			if retry && attempt > 0 {
				return nil, fmt.Errorf("%w (gave up after %d attempts)", lastErr, attempt+1)
			}
			return nil, lastErr
		}
		if d := c.retry.backoff(attempt + 1); d > wait {
			wait = d
		}
		wait = min(wait, maxWait)
		if unreachable && c.unreachable > 0 {
			left := c.unreachable - time.Since(start)
			if left < 100*time.Millisecond {
				return nil, fmt.Errorf("%w (tracking server %s unreachable; gave up after %d attempts in %v)", lastErr, c.base, attempt+1, time.Since(start).Round(100*time.Millisecond))
			}
			wait = min(wait, left)
		}
		if c.notice != nil {
			c.notice(RetryNotice{Method: method, Path: path, Server: c.base.String(), Attempt: attempt + 2, Attempts: c.retry.max + 1,
				Wait: wait, Unreachable: unreachable, Err: lastErr})
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("mlflow: %s %s: %w (while waiting to retry after: %v)", method, path, ctx.Err(), lastErr)
		case <-t.C:
		}
	}
}

// scrub removes the password and token from an error's text.
func (c *Client) scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	out := msg
	for _, s := range []string{c.password, c.token, url.QueryEscape(c.password), url.PathEscape(c.password)} {
		if len(s) >= 3 {
			out = strings.ReplaceAll(out, s, "xxxxx")
		}
	}
	if out == msg {
		return err
	}
	return &redactedError{msg: out, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// toQuery turns a request value into query parameters: url.Values as is,
// anything else through its JSON form (an object of scalars and arrays of
// scalars; arrays repeat the key, as MLflow's request.args.getlist expects).
func toQuery(in any) (url.Values, error) {
	switch v := in.(type) {
	case nil:
		return nil, nil
	case url.Values:
		return v, nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("query parameters must be a JSON object: %w", err)
	}
	q := url.Values{}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch x := m[k].(type) {
		case nil:
			// Unset optional field.
		case []any:
			for _, e := range x {
				s, err := scalar(e)
				if err != nil {
					return nil, fmt.Errorf("field %s: %w", k, err)
				}
				q.Add(k, s)
			}
		default:
			s, err := scalar(x)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", k, err)
			}
			q.Set(k, s)
		}
	}
	return q, nil
}

func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("cannot send %T as a query parameter", v)
}

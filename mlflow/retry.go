package mlflow

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// retryPolicy is the Python client's urllib3 Retry: max retries after the
// first attempt, waits of factor·2^(n-1) plus up to jitter of random extra.
type retryPolicy struct {
	max    int
	factor time.Duration
	jitter time.Duration
}

// defaultRetry matches the Python client's defaults (mlflow 3.x
// environment_variables.py: 7 retries, factor 2, jitter 1.0).
var defaultRetry = retryPolicy{max: 7, factor: 2 * time.Second, jitter: time.Second}

// maxWait caps one wait, as urllib3's backoff_max (120 s) does.
const maxWait = 120 * time.Second

// backoff is the wait before retry n (n ≥ 1).
func (p retryPolicy) backoff(n int) time.Duration {
	d := p.factor
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	if p.jitter > 0 {
		d += rand.N(p.jitter)
	}
	return d
}

// retryableStatus reports whether an HTTP status is worth another attempt.
// When the call must not be replayed, only statuses that say the server did
// not act on the request qualify: 429 (rate limited before handling) and
// 503 (unavailable: a proxy or a starting server).
func retryableStatus(status int, replay bool) bool {
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusServiceUnavailable:
		return true
	case !replay:
		return false
	case status == http.StatusRequestTimeout, status >= 500 && status != http.StatusNotImplemented:
		return true
	}
	return false
}

// retryableErr reports whether a transport error is worth another attempt.
// A refused or failed dial never reached the server, so it is always safe;
// other connection failures (reset, EOF, timeout awaiting headers) may hit a
// request the server already handled, so they are retried only for calls
// that may be replayed.
func retryableErr(err error, replay bool) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsTemporary || dns.IsTimeout
	}
	if !replay {
		return false
	}
	// Certificate errors will not heal on retry.
	return !isTLSVerifyErr(err)
}

// isUnreachable reports whether a transport error says the server could
// not be reached at all: a failed dial (refused, no route, connect timeout)
// or a failed name lookup.
func isUnreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return errors.As(err, &op) && op.Op == "dial" || errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dns)
}

func isTLSVerifyErr(err error) bool {
	var v *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	return errors.As(err, &v) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &rh)
}

// retryAfter parses a Retry-After header (seconds or an HTTP date); 0 when
// absent or unparsable.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s < 0 {
			return 0
		}
		if s > int(maxWait/time.Second) { // also keeps the multiplication from overflowing
			return maxWait
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, maxWait)
		}
	}
	return 0
}

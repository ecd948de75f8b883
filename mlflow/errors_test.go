package mlflow

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		body     string
		wantCode string
		wantMsg  string
		is       error
	}{
		{"already exists is 400", 400, `{"error_code": "RESOURCE_ALREADY_EXISTS", "message": "Experiment 'x' already exists."}`, "RESOURCE_ALREADY_EXISTS", "Experiment 'x' already exists.", ErrAlreadyExists},
		{"not found", 404, `{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run 'x' not found"}`, "RESOURCE_DOES_NOT_EXIST", "Run 'x' not found", ErrNotFound},
		{"invalid", 400, `{"error_code":"INVALID_PARAMETER_VALUE","message":"bad"}`, "INVALID_PARAMETER_VALUE", "bad", ErrInvalidParameter},
		{"alias missing is 400 invalid", 400, `{"error_code":"INVALID_PARAMETER_VALUE","message":"Registered model alias champion not found."}`, "INVALID_PARAMETER_VALUE", "Registered model alias champion not found.", ErrInvalidParameter},
		{"endpoint not found", 404, `{"error_code":"ENDPOINT_NOT_FOUND","message":"No API"}`, "ENDPOINT_NOT_FOUND", "No API", ErrEndpointNotFound},
		{"unauthenticated text", 401, "You are not authenticated.", "", "You are not authenticated.", ErrUnauthenticated},
		{"permission json", 403, `{"error_code":"PERMISSION_DENIED","message":"no"}`, "PERMISSION_DENIED", "no", ErrPermissionDenied},
		{"403 text from security middleware", 403, "Invalid Host header - possible DNS rebinding attack detected", "", "Invalid Host header - possible DNS rebinding attack detected", ErrPermissionDenied},
		{"503 text", 503, "\nService Unavailable: artifacts disabled\n", "", "Service Unavailable: artifacts disabled", ErrUnavailable},
		{"html 500", 500, "<html><body>\n<h1>Internal Server Error</h1></body></html>", "", "<html><body> <h1>Internal Server Error</h1></body></html>", ErrInternal},
		{"flask 404 html", 404, "<!doctype html><title>404 Not Found</title>", "", "<!doctype html><title>404 Not Found</title>", ErrEndpointNotFound},
		{"json without code", 400, `{"detail":"x"}`, "", `{"detail":"x"}`, ErrInvalidParameter},
		{"numeric code", 400, `{"error_code":1001,"message":"m"}`, "1001", "m", ErrInvalidParameter},
		{"unknown code falls back to status", 409, `{"error_code":"SOMETHING_NEW","message":"m"}`, "SOMETHING_NEW", "m", ErrConflict},
		{"empty", 502, "", "", "", ErrInternal},
		{"invalid utf8", 400, "\xff\xfe bad", "", "\uFFFD bad", ErrInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := parseError(tt.status, "POST", "/api/2.0/mlflow/x", []byte(tt.body))
			if e.Code != tt.wantCode || e.Message != tt.wantMsg || e.StatusCode != tt.status {
				t.Errorf("got code %q message %q status %d", e.Code, e.Message, e.StatusCode)
			}
			var err error = e
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			for _, other := range []error{ErrNotFound, ErrAlreadyExists, ErrUnauthenticated, ErrPermissionDenied} {
				if other != tt.is && errors.Is(err, other) {
					t.Errorf("also matches %v", other)
				}
			}
			if !strings.Contains(e.Error(), "POST /api/2.0/mlflow/x") {
				t.Errorf("Error() = %q lacks the call", e.Error())
			}
		})
	}
}

func TestShortTextLimits(t *testing.T) {
	t.Parallel()
	s := shortText([]byte(strings.Repeat("é", 2000)))
	if utf8.RuneCountInString(s) != 501 {
		t.Errorf("%d runes", utf8.RuneCountInString(s))
	}
}

func FuzzParseError(f *testing.F) {
	for _, s := range []string{
		`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"x"}`,
		`{"error_code":null,"message":null}`,
		`{"error_code":{"a":1},"message":[1,2]}`,
		`{"error_code":"X"`,
		"<html>oops</html>",
		"\xff\xfe",
		"",
		`  {"error_code":"INVALID_PARAMETER_VALUE","message":"\u00e9\ud800"}  `,
	} {
		f.Add(400, s)
		f.Add(503, s)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		e := parseError(status, "GET", "/p", []byte(body))
		msg := e.Error()
		if !utf8.ValidString(msg) {
			t.Errorf("invalid UTF-8 in %q", msg)
		}
		if strings.ContainsAny(e.Message, "\n\r") && e.Code == "" {
			t.Errorf("multi-line text message %q", e.Message)
		}
		_ = errors.Is(e, ErrNotFound)
	})
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "5", "-3", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT", "soon"} {
		f.Add(s)
	}
	now := time.Date(2015, 10, 21, 7, 27, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, h string) {
		d := retryAfter(h, now)
		if d < 0 || d > maxWait {
			t.Errorf("retryAfter(%q) = %v", h, d)
		}
	})
}

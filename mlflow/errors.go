package mlflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Sentinel errors matched by *APIError.Is; test with errors.Is.
var (
	ErrNotFound         = errors.New("mlflow: resource does not exist")
	ErrAlreadyExists    = errors.New("mlflow: resource already exists")
	ErrInvalidParameter = errors.New("mlflow: invalid parameter value")
	ErrUnauthenticated  = errors.New("mlflow: authentication failed")
	ErrPermissionDenied = errors.New("mlflow: permission denied")
	ErrEndpointNotFound = errors.New("mlflow: endpoint not found (older server or disabled feature?)")
	ErrRateLimited      = errors.New("mlflow: rate limited")
	ErrUnavailable      = errors.New("mlflow: service unavailable")
	ErrInternal         = errors.New("mlflow: internal server error")
	ErrNotImplemented   = errors.New("mlflow: not implemented by the server")
	ErrConflict         = errors.New("mlflow: conflict")
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 1 << 20

// APIError is an MLflow error answer: an HTTP status with MLflow's
// {"error_code", "message"} body or, for non-JSON bodies, the text.
type APIError struct {
	StatusCode int    // HTTP status
	Code       string // MLflow error_code, "" when the body was not MLflow JSON
	Message    string // MLflow message, or the (trimmed) body text
	Method     string // request method
	Path       string // request path, without host or query
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mlflow: %s %s: ", e.Method, e.Path)
	switch e.StatusCode {
	case http.StatusUnauthorized:
		b.WriteString("authentication failed (check MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN): ")
	case http.StatusForbidden:
		b.WriteString("permission denied: ")
	}
	fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// codeSentinel maps MLflow error codes (databricks.ErrorCode names) to sentinels.
var codeSentinel = map[string]error{
	"RESOURCE_DOES_NOT_EXIST": ErrNotFound,
	"NOT_FOUND":               ErrNotFound,
	"RESOURCE_ALREADY_EXISTS": ErrAlreadyExists,
	"ALREADY_EXISTS":          ErrAlreadyExists,
	"INVALID_PARAMETER_VALUE": ErrInvalidParameter,
	"BAD_REQUEST":             ErrInvalidParameter,
	"MALFORMED_REQUEST":       ErrInvalidParameter,
	"INVALID_STATE":           ErrInternal,
	"UNAUTHENTICATED":         ErrUnauthenticated,
	"CUSTOMER_UNAUTHORIZED":   ErrUnauthenticated,
	"PERMISSION_DENIED":       ErrPermissionDenied,
	"ENDPOINT_NOT_FOUND":      ErrEndpointNotFound,
	"REQUEST_LIMIT_EXCEEDED":  ErrRateLimited,
	"RESOURCE_EXHAUSTED":      ErrRateLimited,
	"TEMPORARILY_UNAVAILABLE": ErrUnavailable,
	"INTERNAL_ERROR":          ErrInternal,
	"DATA_LOSS":               ErrInternal,
	"NOT_IMPLEMENTED":         ErrNotImplemented,
	"RESOURCE_CONFLICT":       ErrConflict,
	"ABORTED":                 ErrConflict,
}

// statusSentinel is the fallback for answers without a known error code.
func statusSentinel(status int) error {
	switch {
	case status == http.StatusUnauthorized:
		return ErrUnauthenticated
	case status == http.StatusForbidden:
		return ErrPermissionDenied
	case status == http.StatusNotFound:
		// Without an MLflow body, a 404 comes from the router: no such endpoint.
		return ErrEndpointNotFound
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status == http.StatusNotImplemented:
		return ErrNotImplemented
	case status == http.StatusServiceUnavailable:
		return ErrUnavailable
	case status >= 500:
		return ErrInternal
	case status >= 400:
		return ErrInvalidParameter
	}
	return nil
}

// Is lets errors.Is match the sentinels by error code, then by status.
func (e *APIError) Is(target error) bool {
	if s, ok := codeSentinel[e.Code]; ok {
		return s == target
	}
	// The status is authoritative for auth failures even with an odd code.
	return statusSentinel(e.StatusCode) == target
}

// parseError builds an *APIError from an error answer's status and body
// (at most maxErrorBody bytes of it). It accepts any bytes.
func parseError(status int, method, path string, body []byte) *APIError {
	e := &APIError{StatusCode: status, Method: method, Path: path}
	var m struct {
		ErrorCode json.RawMessage `json:"error_code"`
		Message   json.RawMessage `json:"message"`
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &m) == nil && len(m.ErrorCode) > 0 {
		e.Code = jsonText(m.ErrorCode)
		e.Message = jsonText(m.Message)
		return e
	}
	e.Message = shortText(trimmed)
	return e
}

// jsonText gives a JSON string's value, or the raw JSON for other values
// (some servers send numeric error codes).
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return shortText(raw)
}

// shortText makes a body printable in an error: valid UTF-8, one line,
// at most 500 runes (HTML error pages are long).
func shortText(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 500 {
		r := []rune(s)
		s = string(r[:500]) + "…"
	}
	return s
}

package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/creditrisk/engine/data"
)

// Validation reasons: the "reason" of an error answer and the reason label
// of api_validation_errors_total.
const (
	ReasonMalformedJSON    = "malformed_json"
	ReasonMalformedCSV     = "malformed_csv"
	ReasonBodyTooLarge     = "body_too_large"
	ReasonContentType      = "unsupported_content_type"
	ReasonTooManyInstances = "too_many_instances"
	ReasonBadRequest       = "bad_request"
	ReasonMissingFeature   = "missing_feature"
	ReasonUnknownFeature   = "unknown_feature"
	ReasonWrongType        = "wrong_type"
	ReasonNotFinite        = "not_finite"
	ReasonInvalid          = "invalid_value"
)

// FieldProblem is one bad field of one instance.
type FieldProblem struct {
	Instance *int   `json:"instance,omitempty"` // index in a batch; absent for a single object
	Field    string `json:"field"`
	Reason   string `json:"reason"`
	Message  string `json:"message"`
}

// inputError is a request the server refuses; it becomes a JSON answer.
type inputError struct {
	status int
	reason string
	msg    string
	fields []FieldProblem
}

func (e *inputError) Error() string { return e.msg }

func badRequest(reason, format string, args ...any) *inputError {
	return &inputError{status: http.StatusBadRequest, reason: reason, msg: fmt.Sprintf(format, args...)}
}

// readJSONBody checks the content type and reads at most limit bytes.
func readJSONBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *inputError) {
	b, _, e := readBody(w, r, limit, "application/json")
	return b, e
}

// readBody checks the content type is one of types and reads at most limit
// bytes; it returns the media type found.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, types ...string) ([]byte, string, *inputError) {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if !slices.Contains(types, mt) {
		if ct == "" {
			ct = "none"
		}
		return nil, "", &inputError{status: http.StatusUnsupportedMediaType, reason: ReasonContentType,
			msg: fmt.Sprintf("Content-Type %q is not supported: send %s", ct, strings.Join(types, " or "))}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, "", &inputError{status: http.StatusRequestEntityTooLarge, reason: ReasonBodyTooLarge,
				msg: fmt.Sprintf("request body is larger than %d bytes", limit)}
		}
		return nil, "", badRequest(ReasonBadRequest, "read request body: %v", err)
	}
	return b, mt, nil
}

// decodeJSON decodes exactly one JSON value (numbers kept as json.Number).
func decodeJSON(b []byte) (any, *inputError) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			return nil, badRequest(ReasonMalformedJSON, "request body is empty: send a JSON object")
		}
		return nil, badRequest(ReasonMalformedJSON, "malformed JSON: %s", jsonMsg(err, b))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest(ReasonMalformedJSON, "malformed JSON: data after the first JSON value at offset %d", dec.InputOffset())
	}
	return v, nil
}

func jsonMsg(err error, b []byte) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at offset %d", se, se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Sprintf("unexpected end of input after %d bytes", len(b))
	}
	return err.Error()
}

// decodePredict reads a /predict or /explain body: one object of feature
// name -> value, or {"instances": [objects]}. batch tells which.
func decodePredict(b []byte, max int) (rows []map[string]any, batch bool, e *inputError) {
	v, e := decodeJSON(b)
	if e != nil {
		return nil, false, e
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, false, badRequest(ReasonBadRequest, "request body is a JSON %s: send an object of feature values or {\"instances\": [...]}", jsonKind(v))
	}
	inst, ok := obj["instances"]
	if !ok {
		return []map[string]any{obj}, false, nil
	}
	if len(obj) != 1 {
		return nil, false, badRequest(ReasonBadRequest, "instances: a batch request has no other fields (found %s)", otherKeys(obj, "instances"))
	}
	list, ok := inst.([]any)
	if !ok {
		return nil, false, badRequest(ReasonBadRequest, "instances: is a JSON %s, want a list of objects", jsonKind(inst))
	}
	if len(list) == 0 {
		return nil, false, badRequest(ReasonBadRequest, "instances: the list is empty")
	}
	if len(list) > max {
		return nil, false, &inputError{status: http.StatusRequestEntityTooLarge, reason: ReasonTooManyInstances,
			msg: fmt.Sprintf("instances: %d instances, at most %d per request", len(list), max)}
	}
	rows = make([]map[string]any, len(list))
	for i, it := range list {
		o, ok := it.(map[string]any)
		if !ok {
			return nil, false, badRequest(ReasonBadRequest, "instances[%d]: is a JSON %s, want an object of feature values", i, jsonKind(it))
		}
		rows[i] = o
	}
	return rows, true, nil
}

func otherKeys(obj map[string]any, except string) string {
	var ks []string
	for k := range obj {
		if k != except {
			ks = append(ks, strconv.Quote(k))
		}
	}
	sort.Strings(ks)
	if len(ks) > 5 {
		ks = append(ks[:5], "…")
	}
	return strings.Join(ks, ", ")
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number, float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// reasonOf maps the data package's field errors to reason codes.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, data.ErrMissingFeature):
		return ReasonMissingFeature
	case errors.Is(err, data.ErrUnknownFeature):
		return ReasonUnknownFeature
	case errors.Is(err, data.ErrWrongType):
		return ReasonWrongType
	case errors.Is(err, data.ErrNotFinite):
		return ReasonNotFinite
	}
	return ReasonInvalid
}

// encodeRows validates and encodes request objects with the schema (the
// /predict semantics: category strings). Unknown features are dropped
// first when ignoreUnknown. unseen collects features whose category was
// not seen in training.
func encodeRows(s *snapshot, rows []map[string]any, batch, ignoreUnknown bool) (x [][]float64, unseen []string, e *inputError) {
	x = make([][]float64, len(rows))
	var problems []FieldProblem
	for i, row := range rows {
		if ignoreUnknown {
			row = known(s, row)
		}
		v, u, err := s.schema.EncodeRow(row)
		unseen = append(unseen, u...)
		if err != nil {
			problems = append(problems, fieldProblems(err, i, batch)...)
			continue
		}
		x[i] = v
	}
	if len(problems) > 0 {
		return nil, unseen, invalid(problems)
	}
	return x, unseen, nil
}

func invalid(problems []FieldProblem) *inputError {
	msg := problems[0].Message
	if problems[0].Instance != nil {
		msg = fmt.Sprintf("instances[%d]: %s", *problems[0].Instance, msg)
	}
	if len(problems) > 1 {
		msg = fmt.Sprintf("%s (and %d more problems)", msg, len(problems)-1)
	}
	return &inputError{status: http.StatusBadRequest, reason: problems[0].Reason, msg: msg, fields: problems}
}

func known(s *snapshot, row map[string]any) map[string]any {
	for k := range row {
		if _, ok := s.index[k]; !ok {
			out := make(map[string]any, len(row))
			for k, v := range row {
				if _, ok := s.index[k]; ok {
					out[k] = v
				}
			}
			return out
		}
	}
	return row
}

func fieldProblems(err error, i int, batch bool) []FieldProblem {
	var inst *int
	if batch {
		inst = &i
	}
	var re *data.RowError
	if errors.As(err, &re) && len(re.Fields) > 0 {
		out := make([]FieldProblem, len(re.Fields))
		for j, f := range re.Fields {
			out[j] = FieldProblem{Instance: inst, Field: f.Field, Reason: reasonOf(f), Message: f.Error()}
		}
		return out
	}
	var fe *data.FieldError
	if errors.As(err, &fe) {
		return []FieldProblem{{Instance: inst, Field: fe.Field, Reason: reasonOf(fe), Message: fe.Error()}}
	}
	return []FieldProblem{{Instance: inst, Reason: ReasonInvalid, Message: err.Error()}}
}

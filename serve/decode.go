package serve

// Reading request bodies, the /predict and /explain body, and the bounded
// error answers every protocol shares.

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// Validation reasons: the "reason" of an error answer and the reason label
// of api_validation_errors_total. The encoder's warnings, refused under
// --strict, keep their own reasons (unseen_category, out_of_range,
// missing_value), as do its refusals of category codes (not_a_code,
// ambiguous_category).
const (
	ReasonMalformedJSON    = "malformed_json"
	ReasonMalformedCSV     = "malformed_csv"
	ReasonBodyTooLarge     = "body_too_large"
	ReasonContentType      = "unsupported_content_type"
	ReasonTooManyInstances = "too_many_instances"
	ReasonBadRequest       = "bad_request"
	ReasonMissingFeature   = "missing_feature"
	ReasonUnknownFeature   = "unknown_feature"
	ReasonDuplicate        = "duplicate_feature"
	ReasonWrongType        = "wrong_type"
	ReasonNotFinite        = "not_finite"
	ReasonInvalid          = "invalid_value"
)

// maxErrorBody bounds an error answer, whatever the request held.
const maxErrorBody = 64 << 10

// FieldProblem is one bad field of one instance.
type FieldProblem struct {
	Instance *int   `json:"instance,omitempty"` // index in a batch; absent for a single object
	Field    string `json:"field"`
	Reason   string `json:"reason"`
	Message  string `json:"message"`

	order int // problems are listed by instance, then schema order
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

// invalid is the refusal of a request whose fields have problems; dropped
// says more were found than listed (decoding stopped there).
func invalid(problems []FieldProblem, dropped bool) *inputError {
	msg := problems[0].Message
	if problems[0].Instance != nil {
		msg = fmt.Sprintf("instances[%d]: %s", *problems[0].Instance, msg)
	}
	switch {
	case dropped:
		msg = fmt.Sprintf("%s (and more: %d problems listed, decoding stopped there)", msg, len(problems))
	case len(problems) > 1:
		msg = fmt.Sprintf("%s (and %d more problems)", msg, len(problems)-1)
	}
	return &inputError{status: http.StatusBadRequest, reason: problems[0].Reason, msg: msg,
		fields: append([]FieldProblem(nil), problems...)}
}

// mediaType checks the Content-Type is one of types and returns it.
func mediaType(r *http.Request, types ...string) (string, *inputError) {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	for _, t := range types {
		if strings.EqualFold(mt, t) {
			return t, nil
		}
	}
	if ct == "" {
		ct = "none"
	}
	if len(ct) > 100 {
		ct = ct[:100] + "…"
	}
	return "", &inputError{status: http.StatusUnsupportedMediaType, reason: ReasonContentType,
		msg: fmt.Sprintf("Content-Type %q is not supported: send %s", ct, strings.Join(types, " or "))}
}

// readBody reads at most limit bytes of the body into buf (reused): a
// declared length over the limit is refused before reading, an undeclared
// one when the limit is passed.
func readBody(r *http.Request, limit int64, buf []byte) ([]byte, *inputError) {
	tooLarge := func() *inputError {
		return &inputError{status: http.StatusRequestEntityTooLarge, reason: ReasonBodyTooLarge,
			msg: fmt.Sprintf("request body is larger than %d bytes", limit)}
	}
	if r.ContentLength > limit {
		return buf, tooLarge()
	}
	buf = buf[:0]
	if r.ContentLength >= 0 && int64(cap(buf)) <= r.ContentLength {
		buf = make([]byte, 0, r.ContentLength+1) // + 1: room to see the end
	}
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(int64(max(512, len(buf))), limit+1-int64(len(buf)))))
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf, tooLarge()
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, badRequest(ReasonBadRequest, "read request body: %v", err)
		}
	}
}

// decodePredict reads a /predict or /explain body: one object of feature
// name -> value, or {"instances": [objects]}. batch tells which.
func decodePredict(sc *scanner, rs *rowSet, b []byte) (batch bool) {
	sc.reset(b)
	if !topObject(sc, rs, "an object of feature values or {\"instances\": [...]}") {
		return false
	}
	first := true
	row := -1
	for ; !rs.stop() && sc.more('}', first); first = false {
		key, ok := sc.str(&sc.key)
		if !ok || !sc.consume(':', "':'") {
			break
		}
		if string(key) == "instances" {
			if !first {
				rs.refuse(badRequest(ReasonBadRequest, "instances: a batch request has no other fields"))
				break
			}
			batch, rs.batch = true, true
			rs.list(sc, "instances", "", func(i int) bool { return rs.record(sc, "instances", i) })
			if !rs.stop() && !sc.failed() && sc.peek() == ',' {
				sc.pos++
				k, _ := sc.str(&sc.key)
				rs.refuse(badRequest(ReasonBadRequest, "instances: a batch request has no other fields (found %q)", shortName(k)))
			}
			continue
		}
		if row < 0 {
			if row = rs.row(); row < 0 {
				break
			}
		}
		j := rs.feature(row, key)
		if j >= 0 && !rs.give(row, j) {
			j = -1
		}
		if !rs.value(sc, row, j) {
			break
		}
	}
	if !batch && !rs.stop() && !sc.failed() {
		if row < 0 {
			row = rs.row() // {}: every required feature is missing
		}
		rs.requireGiven(row)
	}
	finish(sc, rs)
	return batch
}

// topObject checks the body is a JSON object and consumes its '{'; else
// it refuses the request (malformed, empty, or another kind of value).
func topObject(sc *scanner, rs *rowSet, want string) bool {
	switch sc.kind() {
	case kindObject:
		sc.pos++
		return true
	case kindNone:
		if sc.peek(); sc.pos == len(sc.b) {
			rs.refuse(badRequest(ReasonMalformedJSON, "request body is empty: send %s", want))
			return false
		}
		sc.skip()
		rs.refuse(badRequest(ReasonMalformedJSON, "malformed JSON: %s", sc.err))
		return false
	}
	k := sc.kind()
	if !sc.skip() || !sc.end() {
		rs.refuse(badRequest(ReasonMalformedJSON, "malformed JSON: %s", sc.err))
		return false
	}
	rs.refuse(badRequest(ReasonBadRequest, "request body is a JSON %s: send %s", kindNames[k], want))
	return false
}

// finish turns a syntax error, or data after the document, into the
// request's refusal (decoding stopped at a refusal or a full problem list
// does not read on).
func finish(sc *scanner, rs *rowSet) {
	if !rs.stop() {
		sc.end()
	}
	if sc.failed() {
		rs.fatal = badRequest(ReasonMalformedJSON, "malformed JSON: %s", sc.err)
	}
}

// list reads a JSON array of rows, calling each for each element; an
// empty list or another kind of value is refused, and so is a list of more
// rows than allowed, even when a row before the limit is malformed (the
// rest is counted then, so that the answer is the same whatever the rows
// hold).
// The list is key+sub in messages (sub: ".data" of a dataframe_split).
func (rs *rowSet) list(sc *scanner, key, sub string, each func(i int) bool) {
	if k := sc.kind(); k != kindArray {
		if sc.skip() {
			rs.refuse(badRequest(ReasonBadRequest, "%s%s: is a JSON %s, want a list", key, sub, kindNames[k]))
		}
		return
	}
	sc.pos++
	i := 0
	for first := true; sc.more(']', first); first = false {
		sc.peek()
		at := sc.pos
		if rs.n == rs.max {
			rs.tooMany(sc, at, i, key, sub)
			return
		}
		if !each(i) || rs.stop() {
			if rs.fatal != nil && rs.fatal.status != http.StatusRequestEntityTooLarge && !sc.failed() {
				rs.tooMany(sc, at, i, key, sub)
			}
			return
		}
		i++
	}
	if i == 0 && !sc.failed() {
		rs.refuse(badRequest(ReasonBadRequest, "%s%s: the list is empty", key, sub))
	}
}

// tooMany counts the elements of a list from the one at offset at (the
// i-th) to its end, and refuses the request with 413 when the list holds
// more rows than allowed (replacing a refusal of a row's shape).
func (rs *rowSet) tooMany(sc *scanner, at, i int, key, sub string) {
	sc.pos = at
	n := i
	for first := true; first || sc.more(']', false); first = false {
		if !sc.skip() {
			return
		}
		n++
	}
	if sc.failed() || rs.n-i+n <= rs.max {
		return
	}
	rs.fatal = &inputError{status: http.StatusRequestEntityTooLarge, reason: ReasonTooManyInstances,
		msg: fmt.Sprintf("%s%s: %d rows, at most %d per request", key, sub, n, rs.max)}
}

// record reads element i of the list key, an object of feature values,
// as a new row.
func (rs *rowSet) record(sc *scanner, key string, i int) bool {
	if k := sc.kind(); k != kindObject {
		if sc.skip() {
			rs.refuse(badRequest(ReasonBadRequest, "%s[%d]: is a JSON %s, want an object of feature values", key, i, kindNames[k]))
		}
		return false
	}
	row := rs.row()
	if row < 0 {
		return false
	}
	sc.pos++
	for first := true; sc.more('}', first); first = false {
		key, ok := sc.str(&sc.key)
		if !ok || !sc.consume(':', "':'") {
			return false
		}
		j := rs.feature(row, key)
		if j >= 0 && !rs.give(row, j) {
			j = -1
		}
		if !rs.value(sc, row, j) || rs.stop() {
			return false
		}
	}
	if sc.failed() {
		return false
	}
	rs.requireGiven(row)
	return true
}

func shortName(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}

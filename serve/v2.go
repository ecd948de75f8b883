package serve

// The Open Inference Protocol (KServe's v2 protocol, the REST binding
// Triton and KServe clients speak): server liveness and readiness, server
// and model metadata, model readiness, and infer.
//
// An infer request holds one input tensor per feature, named as the
// feature, of shape [N] or [N, 1] (data flat, or for [N, 1] a list of
// one-value lists): BYTES for a categorical feature's levels, FP64 (or
// FP32, INT64, INT32) for a number; a categorical feature also takes
// INT64 or INT32 category codes, as a JSON number means a code everywhere.
// JSON null is a missing value in any tensor (and in a numeric feature's,
// the strings that spell missing on /predict). This file only walks the
// protocol's syntax: every value goes to the rowSet as on /predict and
// /invocations, so it means the same (data.Encoder), with the same
// warnings, --strict, unknown-feature policy and caps. The answer is one
// FP64 tensor, probability_of_default, of shape [N], with the warnings
// beside it as /invocations gives them. Errors are the protocol's
// {"error": "..."}, with the field problems added.
//
// Tensor data come as JSON or, with Triton's binary tensor data extension,
// as bytes after the JSON part of the body (whose length the header
// Inference-Header-Content-Length gives), each such input saying its size
// in parameters.binary_data_size: little-endian numbers, and for BYTES
// each element's length in 4 little-endian bytes before it. That is what
// tritonclient sends by default. The answer is always JSON. The body is
// read whatever its Content-Type says, as Triton's and KServe's servers
// do: tritonclient sends none, and their examples use curl -d.

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/creditrisk/engine/data"
)

// The endpoint labels of the paths that name a model, and the one output.
const (
	epV2Infer      = "/v2/models/{name}/infer"
	epV2Model      = "/v2/models/{name}"
	epV2ModelReady = "/v2/models/{name}/ready"
	v2Output       = "probability_of_default"
)

var (
	epV2InferIdx      = slices.Index(endpoints, epV2Infer)
	epV2ModelIdx      = slices.Index(endpoints, epV2Model)
	epV2ModelReadyIdx = slices.Index(endpoints, epV2ModelReady)
)

// v2Endpoint returns the endpoint label of a path that names a model:
// /v2/models/NAME[/versions/VERSION][/ready|/infer].
func v2Endpoint(path string) (int, bool) {
	rest, ok := strings.CutPrefix(path, "/v2/models/")
	if !ok {
		return 0, false
	}
	name, rest, _ := strings.Cut(rest, "/")
	if name == "" {
		return 0, false
	}
	if v, ok := strings.CutPrefix(rest, "versions/"); ok {
		var ver string
		if ver, rest, _ = strings.Cut(v, "/"); ver == "" {
			return 0, false
		}
	}
	switch rest {
	case "":
		return epV2ModelIdx, true
	case "ready":
		return epV2ModelReadyIdx, true
	case "infer":
		return epV2InferIdx, true
	}
	return 0, false
}

func (s *Server) v2Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v2", s.v2Server)
	mux.HandleFunc("GET /v2/health/live", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	})
	mux.HandleFunc("GET /v2/health/ready", func(w http.ResponseWriter, r *http.Request) {
		if s.current.Load() == nil {
			v2NoModel(w)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
	})
	for _, p := range []string{"/v2/models/{name}", "/v2/models/{name}/versions/{version}"} {
		mux.HandleFunc("GET "+p, s.v2Model)
		mux.HandleFunc("GET "+p+"/ready", s.v2ModelReady)
		mux.HandleFunc("POST "+p+"/infer", s.v2Infer)
	}
}

// V2Error is the JSON of an Open Inference Protocol error answer: the
// protocol's {"error": message}, with the field problems added.
type V2Error struct {
	Error  string         `json:"error"`
	Fields []FieldProblem `json:"fields,omitempty"`
}

func writeV2Error(w http.ResponseWriter, status int, msg string, fields []FieldProblem) {
	b := V2Error{Error: msg, Fields: fields}
	writeBounded(w, status, &b, func() bool {
		if len(b.Fields) == 0 {
			return false
		}
		b.Fields = b.Fields[:len(b.Fields)/2]
		return true
	})
}

func v2NoModel(w http.ResponseWriter) {
	w.Header()["Retry-After"] = []string{"5"}
	writeV2Error(w, http.StatusServiceUnavailable, ErrNoModel.Error()+" yet", nil)
}

// V2ServerMetadata is the answer to GET /v2.
type V2ServerMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

func (s *Server) v2Server(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, V2ServerMetadata{Name: "pipeline", Version: s.opts.Version, Extensions: []string{}})
}

// v2Snapshot returns the model a request names, or answers 503 (none
// loaded) or 404 (another name or version) and returns nil. The name is
// the registered model's ("local" for a directory), as /version says.
func (s *Server) v2Snapshot(w http.ResponseWriter, r *http.Request) *snapshot {
	snap := s.current.Load()
	if snap == nil {
		v2NoModel(w)
		return nil
	}
	info := snap.info()
	if name := r.PathValue("name"); name != info.Name {
		writeV2Error(w, http.StatusNotFound, fmt.Sprintf("unknown model %s: this server serves %q", data.Quote(name), info.Name), nil)
		return nil
	}
	if v := r.PathValue("version"); v != "" && v != info.Version {
		writeV2Error(w, http.StatusNotFound, fmt.Sprintf("model %q has no version %s being served: version %q is", info.Name, data.Quote(v), info.Version), nil)
		return nil
	}
	return snap
}

// V2Tensor describes an input or output in the model metadata; -1 in a
// shape is any number of rows.
type V2Tensor struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

// V2ModelMetadata is the answer to GET /v2/models/NAME: one input per
// feature in the schema's order, BYTES for categorical ones and FP64 for
// numbers, and the one output.
type V2ModelMetadata struct {
	Name     string     `json:"name"`
	Versions []string   `json:"versions"`
	Platform string     `json:"platform"`
	Inputs   []V2Tensor `json:"inputs"`
	Outputs  []V2Tensor `json:"outputs"`
}

func (s *Server) v2Model(w http.ResponseWriter, r *http.Request) {
	snap := s.v2Snapshot(w, r)
	if snap == nil {
		return
	}
	info := snap.info()
	md := V2ModelMetadata{Name: info.Name, Versions: []string{info.Version}, Platform: snap.flavor,
		Outputs: []V2Tensor{{v2Output, "FP64", []int{-1}}}}
	for _, f := range snap.schema.Features {
		dt := "FP64"
		if f.Type == data.Categorical {
			dt = "BYTES"
		}
		md.Inputs = append(md.Inputs, V2Tensor{f.Name, dt, []int{-1}})
	}
	writeJSON(w, http.StatusOK, md)
}

func (s *Server) v2ModelReady(w http.ResponseWriter, r *http.Request) {
	snap := s.v2Snapshot(w, r)
	if snap == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": snap.info().Name, "ready": true})
}

// V2InferResponse is the answer to an infer request.
type V2InferResponse struct {
	ModelName    string            `json:"model_name"`
	ModelVersion string            `json:"model_version"`
	ID           string            `json:"id,omitempty"`
	Outputs      []V2Output        `json:"outputs"`
	Warnings     []InstanceWarning `json:"warnings,omitempty"`
}

// V2Output is an output tensor of an infer answer.
type V2Output struct {
	V2Tensor
	Data []float64 `json:"data"`
}

func (s *Server) v2Infer(w http.ResponseWriter, r *http.Request) {
	q := requestOf(w)
	snap := s.v2Snapshot(q, r)
	if snap == nil {
		return
	}
	fail := func(e *inputError) {
		s.countInvalid(e)
		writeV2Error(q, e.status, e.msg, e.fields)
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		// tritonclient compresses on request (request_compression_algorithm)
		fail(&inputError{status: http.StatusUnsupportedMediaType, reason: ReasonContentType,
			msg: fmt.Sprintf("Content-Encoding %s is not supported: send the body uncompressed", data.Quote(ce))})
		return
	}
	jsonLen := -1 // the whole body is JSON
	if h := r.Header.Get("Inference-Header-Content-Length"); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil || n < 0 {
			fail(badRequest(ReasonBadRequest, "Inference-Header-Content-Length %s: want the length of the body's JSON part in bytes", data.Quote(h)))
			return
		}
		jsonLen = n
	}
	var e *inputError
	if q.body, e = readBody(r, s.opts.MaxBody, q.body); e != nil {
		fail(e)
		return
	}
	q.rows.reset(snap.enc, s.opts.MaxBatch, s.opts.UnknownFeatures == UnknownIgnore, s.opts.Strict)
	var id []byte
	q.ts, id = decodeInfer(&q.sc, &q.rows, q.ts, q.body, jsonLen)
	s.countUnseen(snap, &q.rows)
	if q.x, e = q.rows.result(q.x); e != nil {
		fail(e)
		return
	}
	p, err := s.score(snap, q.x)
	if err != nil {
		rid := requestID(q)
		s.log.Error("model failed", "request_id", rid, "version", snap.ver.Version, "err", err)
		writeV2Error(q, http.StatusInternalServerError, "the model failed to score the request (request "+rid+")", nil)
		return
	}
	b := append(q.out[:0], snap.v2Head...)
	if id != nil {
		b = append(b, `"id":`...)
		b = append(b, id...)
		b = append(b, ',')
	}
	b = append(b, `"outputs":[{"name":"`+v2Output+`","datatype":"FP64","shape":[`...)
	b = strconv.AppendInt(b, int64(len(p)), 10)
	b = append(b, `],"data":[`...)
	for i, v := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendFloat(b, v)
		s.decide(v)
	}
	b = append(b, "]}]"...)
	q.closeWithWarnings(b)
}

// Datatypes of input tensors that are read; others are refused.
type dtype uint8

const (
	dtUnknown dtype = iota
	dtBytes
	dtFP64
	dtFP32
	dtInt64
	dtInt32
)

var dtypeNames = [...]string{"", "BYTES", "FP64", "FP32", "INT64", "INT32"}

func dtypeOf(b []byte) dtype {
	for i, n := range dtypeNames[1:] {
		if string(b) == n {
			return dtype(i + 1)
		}
	}
	return dtUnknown
}

// v2Input is an input tensor as the first pass of decodeInfer found it.
type v2Input struct {
	feature int   // -1: not read (not a feature, or refused)
	dt      dtype // dtUnknown: refused
	data    int   // offset of its data (a JSON list)
	nested  bool  // data is [[v], [v], …]
	n       int   // elements, one per row
	bin     int   // offset of its binary data after the JSON part; -1: none
	size    int   // bytes of binary data
}

const (
	wantInfer    = `{"inputs": [{"name": FEATURE, "datatype": "FP64" or "BYTES", "shape": [N], "data": [...]}, ...]}`
	maxRequestID = 256
)

// decodeInfer reads an infer request into rs, using ts (returned for
// reuse) for its tensors: b[:jsonLen] is JSON, the rest binary tensor data
// (jsonLen < 0: all of b is JSON). id is the request's id as JSON text, to
// echo (nil when none). A first pass reads the request's structure and checks
// each tensor's name, datatype and shape against its data and the other
// tensors; a second reads the values, row i of every tensor into row i.
func decodeInfer(sc *scanner, rs *rowSet, ts []v2Input, b []byte, jsonLen int) (_ []v2Input, id []byte) {
	rs.batch = true
	ts = ts[:0]
	var bin []byte
	if jsonLen >= 0 {
		if jsonLen == 0 || jsonLen > len(b) {
			rs.refuse(badRequest(ReasonBadRequest, "Inference-Header-Content-Length %d: the body has %d bytes", jsonLen, len(b)))
			return ts, nil
		}
		b, bin = b[:jsonLen], b[jsonLen:]
	}
	sc.reset(b)
	if !topObject(sc, rs, wantInfer) {
		return ts, nil
	}
	haveInputs := false
	for first := true; !rs.stop() && sc.more('}', first); first = false {
		k, ok := sc.str(&sc.key)
		if !ok || !sc.consume(':', "':'") {
			break
		}
		switch string(k) {
		case "id":
			if kd := sc.kind(); kd != kindString {
				if sc.skip() {
					rs.refuse(badRequest(ReasonBadRequest, "id: is a JSON %s, want a string", kindNames[kd]))
				}
				continue
			}
			start := sc.pos
			if _, ok := sc.str(&sc.val); ok {
				// echoed as it came, so it must be fit to echo
				switch id = sc.b[start:sc.pos]; {
				case len(id) > maxRequestID:
					rs.refuse(badRequest(ReasonBadRequest, "id: longer than %d bytes", maxRequestID))
				case !utf8.Valid(id):
					rs.refuse(badRequest(ReasonBadRequest, "id: not valid UTF-8"))
				}
			}
		case "parameters": // sequence, priority, binary_data_output: nothing these models use
			object(sc, rs, "parameters")
		case "inputs":
			if haveInputs {
				rs.refuse(badRequest(ReasonBadRequest, "inputs: given twice"))
				continue
			}
			haveInputs = true
			ts = inputs(sc, rs, ts, bin)
		case "outputs":
			outputs(sc, rs)
		default:
			if sc.skip() {
				rs.refuse(badRequest(ReasonBadRequest, "%s: unexpected field (want inputs, and id, parameters, outputs)", shortName(k)))
			}
		}
	}
	if !haveInputs && !rs.stop() && !sc.failed() {
		rs.refuse(badRequest(ReasonBadRequest, "inputs: missing: send one tensor per feature, as %s", wantInfer))
	}
	finish(sc, rs)
	if rs.stop() || sc.failed() {
		return ts, id
	}
	used := 0
	for _, t := range ts {
		if t.bin >= 0 {
			used = t.bin + t.size
		}
	}
	if used != len(bin) {
		rs.refuse(badRequest(ReasonBadRequest, "binary data: %d bytes follow the JSON part, the inputs' binary_data_size add up to %d", len(bin), used))
		return ts, id
	}
	// Every tensor has n elements, checked by inputs (an empty list is refused there).
	n := ts[0].n
	if n > rs.max {
		rs.refuse(&inputError{status: http.StatusRequestEntityTooLarge, reason: ReasonTooManyInstances,
			msg: fmt.Sprintf("inputs: %d rows, at most %d per request", n, rs.max)})
		return ts, id
	}
	rs.requireGiven(-1)
	for range n {
		rs.row()
	}
	end := sc.pos
	for _, t := range ts {
		if t.feature < 0 || t.dt == dtUnknown {
			continue
		}
		if t.bin >= 0 {
			binaryElements(rs, t, bin[t.bin:t.bin+t.size])
			continue
		}
		sc.pos = t.data + 1
		for i := range t.n {
			if i > 0 {
				sc.consume(',', "','")
			}
			if t.nested {
				sc.consume('[', "'['")
			}
			element(sc, rs, t, i)
			if t.nested {
				sc.consume(']', "']'")
			}
			if rs.stop() || sc.failed() {
				break
			}
		}
	}
	sc.pos = end
	return ts, id
}

// object skips a field that must be a JSON object.
func object(sc *scanner, rs *rowSet, key string) {
	k := sc.kind()
	if sc.skip() && k != kindObject {
		rs.refuse(badRequest(ReasonBadRequest, "%s: is a JSON %s, want an object", key, kindNames[k]))
	}
}

// outputs checks the requested outputs: the model has one.
func outputs(sc *scanner, rs *rowSet) {
	for i, first := 0, true; enter(sc, rs, "outputs", i, first); i, first = i+1, false {
		for first := true; !rs.stop() && sc.more('}', first); first = false {
			key, ok := sc.str(&sc.key)
			if !ok || !sc.consume(':', "':'") {
				return
			}
			switch string(key) {
			case "name":
				if sc.kind() != kindString {
					sc.skip()
					rs.refuse(badRequest(ReasonBadRequest, "outputs[%d].name: want a string", i))
					return
				}
				name, ok := sc.str(&sc.val)
				if ok && string(name) != v2Output {
					rs.refuse(badRequest(ReasonBadRequest, "outputs[%d]: unknown output %s: the model has one, %s", i, data.Quote(name), v2Output))
				}
			case "parameters": // binary_data: the answer is JSON, which every client reads
				object(sc, rs, fmt.Sprintf("outputs[%d].parameters", i))
			default:
				if sc.skip() {
					rs.refuse(badRequest(ReasonBadRequest, "outputs[%d].%s: unexpected field (want name, parameters)", i, shortName(key)))
				}
			}
		}
	}
}

// enter steps to element i of a JSON list of objects (first: the list's
// opening bracket), past the element's '{'; false at the list's end, or
// when the list or the element is something else (refused), or decoding
// stopped.
func enter(sc *scanner, rs *rowSet, key string, i int, first bool) bool {
	if first {
		if k := sc.kind(); k != kindArray {
			if sc.skip() {
				rs.refuse(badRequest(ReasonBadRequest, "%s: is a JSON %s, want a list of objects", key, kindNames[k]))
			}
			return false
		}
		sc.pos++
	}
	if rs.stop() || sc.failed() || !sc.more(']', first) {
		return false
	}
	if k := sc.kind(); k != kindObject {
		if sc.skip() {
			rs.refuse(badRequest(ReasonBadRequest, "%s[%d]: is a JSON %s, want an object", key, i, kindNames[k]))
		}
		return false
	}
	sc.pos++
	return true
}

// place names input i in messages, with its feature once known; it is
// worded only for a message.
type place struct {
	enc        *data.Encoder
	i, feature int
}

func (p place) String() string {
	if p.feature >= 0 {
		return fmt.Sprintf("inputs[%d] (%q)", p.i, p.enc.Schema().Features[p.feature].Name)
	}
	return fmt.Sprintf("inputs[%d]", p.i)
}

// inputs reads the input tensors' structure (first pass): a refusal of
// the request for what makes rows impossible (a bad shape, data that does
// not fit it, tensors of different lengths, binary data that does not add
// up), a field problem for a name that is not a feature or a datatype the
// feature does not take.
func inputs(sc *scanner, rs *rowSet, ts []v2Input, bin []byte) []v2Input {
	next := 0 // offset of the next input's binary data
	for i, first := 0, true; enter(sc, rs, "inputs", i, first); i, first = i+1, false {
		t, ok := input(sc, rs, i, bin, &next)
		if !ok {
			return ts
		}
		if len(ts) > 0 && ts[0].n != t.n {
			rs.refuse(badRequest(ReasonBadRequest, "%s: %d rows, inputs[0] has %d: every input has one value per row", place{rs.enc, i, t.feature}, t.n, ts[0].n))
			return ts
		}
		ts = append(ts, t)
	}
	if len(ts) == 0 && !rs.stop() && !sc.failed() {
		rs.refuse(badRequest(ReasonBadRequest, "inputs: the list is empty: send one tensor per feature"))
	}
	return ts
}

// input reads input i, an object whose '{' was consumed.
func input(sc *scanner, rs *rowSet, i int, bin []byte, next *int) (t v2Input, ok bool) {
	t = v2Input{feature: -1, bin: -1}
	at := place{rs.enc, i, -1}
	var (
		name, dt, shape, dataSeen, binSeen bool
		dtText                             string
		rank, dim0, dim1                   int
	)
	for first := true; !rs.stop() && sc.more('}', first); first = false {
		key, ok := sc.str(&sc.key)
		if !ok || !sc.consume(':', "':'") {
			return t, false
		}
		switch string(key) {
		case "name":
			if name {
				rs.refuse(badRequest(ReasonBadRequest, "%s.name: given twice", at))
				return t, false
			}
			name = true
			if k := sc.kind(); k != kindString {
				if sc.skip() {
					rs.refuse(badRequest(ReasonBadRequest, "inputs[%d].name: is a JSON %s, want a feature's name", i, kindNames[k]))
				}
				return t, false
			}
			b, ok := sc.str(&sc.val)
			if !ok {
				return t, false
			}
			j := rs.feature(-1, b)
			if j >= 0 {
				if rs.present[j] {
					rs.refuse(badRequest(ReasonBadRequest, "inputs[%d]: input %s given twice", i, data.Quote(b)))
					return t, false
				}
				rs.present[j] = true
			}
			t.feature, at.feature = j, j
		case "datatype":
			if k := sc.kind(); k != kindString {
				if sc.skip() {
					rs.refuse(badRequest(ReasonBadRequest, "%s.datatype: is a JSON %s, want a string such as FP64 or BYTES", at, kindNames[k]))
				}
				return t, false
			}
			b, ok := sc.str(&sc.val)
			if !ok {
				return t, false
			}
			if t.dt, dt = dtypeOf(b), true; t.dt == dtUnknown {
				dtText = data.Quote(b)
			}
		case "shape":
			shape = true
			if rank, dim0, dim1, ok = rs.shape(sc, at); !ok {
				return t, false
			}
		case "data":
			dataSeen = true
			sc.peek()
			t.data = sc.pos
			if t.n, t.nested, ok = rs.countData(sc, at); !ok {
				return t, false
			}
		case "parameters":
			if t.size, binSeen, ok = binarySize(sc, rs, at); !ok {
				return t, false
			}
		default:
			if sc.skip() {
				rs.refuse(badRequest(ReasonBadRequest, "%s.%s: unexpected field (want name, datatype, shape, data, parameters)", at, shortName(key)))
			}
			return t, false
		}
	}
	if rs.stop() || sc.failed() {
		return t, false
	}
	for _, f := range [...]struct {
		given bool
		name  string
	}{{name, "name"}, {dt, "datatype"}, {shape, "shape"}, {dataSeen || binSeen, "data"}} {
		if !f.given {
			rs.refuse(badRequest(ReasonBadRequest, "%s.%s: missing", at, f.name))
			return t, false
		}
	}
	if binSeen {
		switch {
		case dataSeen:
			rs.refuse(badRequest(ReasonBadRequest, "%s: has both data and parameters.binary_data_size: send one", at))
			return t, false
		case t.size > len(bin)-*next:
			rs.refuse(badRequest(ReasonBadRequest, "%s.parameters.binary_data_size %d: %d bytes of binary data are left after the JSON part", at, t.size, len(bin)-*next))
			return t, false
		}
		t.bin = *next
		*next += t.size
		n, ok := countBinary(t.dt, bin[t.bin:*next])
		if !ok {
			rs.refuse(badRequest(ReasonBadRequest, "%s: %d bytes of binary data are not whole %s elements", at, t.size, cmp.Or(dtypeNames[t.dt], dtText)))
			return t, false
		}
		t.n = n
	}
	switch {
	case !(rank == 1 || rank == 2 && dim1 == 1):
		rs.refuse(badRequest(ReasonBadRequest, "%s.shape: has %d dimensions%s: want [N] or [N, 1]", at, rank, dims(rank, dim1)))
		return t, false
	case t.nested && rank == 1:
		rs.refuse(badRequest(ReasonBadRequest, "%s.data: is a list of lists, shape [%d] wants a flat list", at, dim0))
		return t, false
	case t.n != dim0:
		rs.refuse(badRequest(ReasonBadRequest, "%s: shape says %d rows, data holds %d", at, dim0, t.n))
		return t, false
	case t.n == 0:
		rs.refuse(badRequest(ReasonBadRequest, "%s: no rows", at))
		return t, false
	}
	if t.feature >= 0 {
		f := &rs.enc.Schema().Features[t.feature]
		want := "FP64, FP32, INT64 or INT32 for a numeric feature"
		okType := t.dt != dtUnknown && t.dt != dtBytes
		if f.Type == data.Categorical {
			want = "BYTES (levels) for a categorical feature, or INT64 or INT32 category codes"
			okType = t.dt == dtBytes || t.dt == dtInt64 || t.dt == dtInt32
		}
		if !okType {
			got := dtText
			if t.dt != dtUnknown {
				got = dtypeNames[t.dt]
			}
			rs.problem(-1, t.feature, f.Name, ReasonWrongType, fmt.Sprintf("input %q: datatype %s: want %s", f.Name, got, want))
			t.dt = dtUnknown
		}
	}
	return t, true
}

func dims(rank, dim1 int) string {
	if rank == 2 {
		return fmt.Sprintf(", the second %d", dim1)
	}
	return ""
}

// shape reads a tensor's shape, a list of at most 8 dimensions, each a
// non-negative integer, and returns the first two.
func (rs *rowSet) shape(sc *scanner, at place) (rank, dim0, dim1 int, ok bool) {
	bad := func() (int, int, int, bool) {
		rs.refuse(badRequest(ReasonBadRequest, "%s.shape: want a list of dimensions such as [N] or [N, 1]", at))
		return 0, 0, 0, false
	}
	if sc.kind() != kindArray {
		sc.skip()
		return bad()
	}
	sc.pos++
	for first := true; sc.more(']', first); first = false {
		if sc.kind() != kindNumber {
			sc.skip()
			return bad()
		}
		t, ok := sc.number()
		if !ok {
			return 0, 0, 0, false
		}
		d, err := strconv.Atoi(string(t))
		if err != nil || d < 0 || rank == 8 {
			return bad()
		}
		switch rank {
		case 0:
			dim0 = d
		case 1:
			dim1 = d
		}
		rank++
	}
	return rank, dim0, dim1, !sc.failed()
}

// binarySize reads an input's parameters, and binary_data_size when given.
func binarySize(sc *scanner, rs *rowSet, at place) (size int, given, ok bool) {
	if k := sc.kind(); k != kindObject {
		if sc.skip() {
			rs.refuse(badRequest(ReasonBadRequest, "%s.parameters: is a JSON %s, want an object", at, kindNames[k]))
		}
		return 0, false, false
	}
	sc.pos++
	for first := true; sc.more('}', first); first = false {
		k, ok := sc.str(&sc.key)
		if !ok || !sc.consume(':', "':'") {
			return 0, false, false
		}
		if string(k) != "binary_data_size" {
			if !sc.skip() {
				return 0, false, false
			}
			continue
		}
		if k := sc.kind(); k != kindNumber {
			if sc.skip() {
				rs.refuse(badRequest(ReasonBadRequest, "%s.parameters.binary_data_size: is a JSON %s, want a number of bytes", at, kindNames[k]))
			}
			return 0, false, false
		}
		t, ok := sc.number()
		if !ok {
			return 0, false, false
		}
		n, err := strconv.Atoi(string(t))
		if err != nil || n < 0 {
			rs.refuse(badRequest(ReasonBadRequest, "%s.parameters.binary_data_size: %s is not a number of bytes", at, data.Quote(t)))
			return 0, false, false
		}
		size, given = n, true
	}
	return size, given, !sc.failed()
}

// countBinary counts the elements of a tensor's binary data; false when
// the bytes are not whole elements.
func countBinary(dt dtype, b []byte) (int, bool) {
	switch dt {
	case dtFP64, dtInt64:
		return len(b) / 8, len(b)%8 == 0
	case dtFP32, dtInt32:
		return len(b) / 4, len(b)%4 == 0
	case dtBytes:
		n := 0
		for len(b) > 0 {
			if len(b) < 4 || uint64(binary.LittleEndian.Uint32(b)) > uint64(len(b)-4) {
				return 0, false
			}
			b = b[4+binary.LittleEndian.Uint32(b):]
			n++
		}
		return n, true
	}
	return 0, false
}

// binaryElements reads tensor t's elements from its binary data, row i from the
// i-th; countBinary checked their sizes.
func binaryElements(rs *rowSet, t v2Input, b []byte) {
	j := t.feature
	for i := 0; i < t.n && !rs.stop(); i++ {
		switch t.dt {
		case dtFP64:
			rs.float(i, j, math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		case dtInt64:
			rs.float(i, j, float64(int64(binary.LittleEndian.Uint64(b[8*i:]))))
		case dtFP32:
			rs.float(i, j, float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))))
		case dtInt32:
			rs.float(i, j, float64(int32(binary.LittleEndian.Uint32(b[4*i:]))))
		case dtBytes:
			n := binary.LittleEndian.Uint32(b)
			rs.text(i, j, b[4:4+n])
			b = b[4+n:]
		}
	}
}

// countData counts a tensor's elements: a flat list of values, or a list
// of one-value lists (nested).
func (rs *rowSet) countData(sc *scanner, at place) (n int, nested, ok bool) {
	if k := sc.kind(); k != kindArray {
		if sc.skip() {
			rs.refuse(badRequest(ReasonBadRequest, "%s.data: is a JSON %s, want a list of values", at, kindNames[k]))
		}
		return 0, false, false
	}
	sc.pos++
	for first := true; sc.more(']', first); first = false {
		isList := sc.kind() == kindArray
		if n == 0 {
			nested = isList
		}
		if isList != nested {
			rs.refuse(badRequest(ReasonBadRequest, "%s.data[%d]: mixes values and lists: send a flat list, or for shape [N, 1] a list of one-value lists", at, n))
			return 0, false, false
		}
		if !isList {
			if !sc.skip() {
				return 0, false, false
			}
			n++
			continue
		}
		sc.pos++
		m := 0
		for first := true; sc.more(']', first); first = false {
			if k := sc.kind(); k == kindArray || k == kindObject {
				sc.skip()
				rs.refuse(badRequest(ReasonBadRequest, "%s.data[%d][%d]: is a JSON %s, want a value", at, n, m, kindNames[k]))
				return 0, false, false
			}
			if !sc.skip() {
				return 0, false, false
			}
			m++
		}
		if sc.failed() {
			return 0, false, false
		}
		if m != 1 {
			rs.refuse(badRequest(ReasonBadRequest, "%s.data[%d]: %d values, want one per row (shape [N, 1])", at, n, m))
			return 0, false, false
		}
		n++
	}
	return n, nested, !sc.failed()
}

// element reads row i's value of tensor t: a value of the tensor's
// datatype, or null, or for a numeric feature a string (as on /predict,
// the spellings of missing are missing, other text is refused).
func element(sc *scanner, rs *rowSet, t v2Input, i int) {
	k := sc.kind()
	j := t.feature
	switch {
	case k == kindNull, t.dt == dtBytes && k == kindString,
		// a number's text: the encoder takes the spellings of missing
		// ("NA", "NaN", …) and refuses the rest, as on /predict
		k == kindString && rs.enc.Schema().Features[j].Type != data.Categorical:
		rs.value(sc, i, j)
		return
	case t.dt != dtBytes && k == kindNumber:
		if t.dt == dtFP64 {
			rs.value(sc, i, j)
			return
		}
		save := sc.pos
		num, ok := sc.number()
		if !ok {
			return
		}
		if !fits(t.dt, num) {
			name := rs.enc.Schema().Features[j].Name
			q := data.Quote(num)
			rs.problem(i, j, name, ReasonWrongType, fmt.Sprintf("field %q: %s is not a value of an %s tensor", name, q[1:len(q)-1], dtypeNames[t.dt]))
			return
		}
		sc.pos = save
		rs.value(sc, i, j)
		return
	}
	if !sc.skip() {
		return
	}
	name := rs.enc.Schema().Features[j].Name
	want := "a number"
	if t.dt == dtBytes {
		want = "a string"
	}
	rs.problem(i, j, name, ReasonWrongType, fmt.Sprintf("field %q: a %s tensor holds a JSON %s, want %s or null", name, dtypeNames[t.dt], kindNames[k], want))
}

// fits reports whether a JSON number is a value of an FP32, INT64 or
// INT32 tensor: within FP32's range, or an integer in the type's range.
func fits(dt dtype, num []byte) bool {
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return false
	}
	switch dt {
	case dtFP32:
		return math.Abs(f) <= math.MaxFloat32
	case dtInt32:
		return f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32
	case dtInt64:
		return f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64
	}
	return true
}

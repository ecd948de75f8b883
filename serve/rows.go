package serve

// The protocol-neutral half of request decoding: a rowSet receives the
// values a protocol decoder (JSON /predict, MLflow's /invocations formats,
// CSV, and any protocol added later) finds, encodes them with the model's
// data.Encoder, and keeps the rows, a capped list of problems and the
// warnings. A decoder only walks its syntax; the meaning of every value,
// the unknown-feature policy, --strict and the caps live here, once.

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/creditrisk/engine/data"
)

// maxProblems is the most field problems an error answer lists; decoding
// stops when it is reached, so a body of a million bad fields costs no
// more than one of a hundred.
const maxProblems = 100

// Warning says how one value of an answered instance was scored.
type Warning struct {
	Field   string `json:"field"`
	Reason  string `json:"reason"` // unseen_category, out_of_range, missing_value
	Message string `json:"message"`
}

// rowSet collects one request's rows.
type rowSet struct {
	enc           *data.Encoder
	nf            int
	max           int  // most rows
	ignoreUnknown bool // drop fields that are not features instead of refusing them
	strict        bool // refuse instead of warning
	batch         bool // problems name their instance

	flat    []float64 // nf values per row
	n       int       // rows
	present []bool    // features given in the current record
	cols    []int     // a frame's columns as features (reused)

	problems []FieldProblem
	dropped  bool        // problems beyond maxProblems were not listed
	fatal    *inputError // a request-level refusal: decoding stops
	warns    []rowWarning
	unsorted bool  // a columnar format added warnings out of row order
	unseen   []int // features of the unseen categories, for metrics

	// known remembers the last dataframe_split columns whose names were
	// all features (per model; nil: not remembered).
	known *atomic.Pointer[frameColumns]
}

// frameColumns are a frame's columns as the request wrote them, and the
// features they are: clients send the same columns with every request,
// and equal bytes decode to equal columns.
type frameColumns struct {
	raw  []byte
	cols []int
}

func (rs *rowSet) knownColumns() *frameColumns {
	if rs.known == nil {
		return nil
	}
	return rs.known.Load()
}

func (rs *rowSet) rememberColumns(raw []byte, cols []int) {
	if rs.known != nil && len(raw) <= 64<<10 {
		rs.known.Store(&frameColumns{raw: slices.Clone(raw), cols: slices.Clone(cols)})
	}
}

type rowWarning struct {
	row, feature int
	Warning
}

func (rs *rowSet) reset(enc *data.Encoder, max int, ignoreUnknown, strict bool) {
	nf := len(enc.Schema().Features)
	*rs = rowSet{enc: enc, nf: nf, max: max, ignoreUnknown: ignoreUnknown, strict: strict,
		flat: rs.flat[:0], present: rs.present[:0], cols: rs.cols[:0], problems: rs.problems[:0],
		warns: rs.warns[:0], unseen: rs.unseen[:0]}
	if cap(rs.present) < nf {
		rs.present = make([]bool, nf)
	}
	rs.present = rs.present[:nf]
	clear(rs.present)
}

// stop reports whether decoding should end: a request-level refusal, or
// the problem list is full.
func (rs *rowSet) stop() bool { return rs.fatal != nil || rs.dropped }

func (rs *rowSet) refuse(e *inputError) {
	if rs.fatal == nil {
		rs.fatal = e
	}
}

// row starts a new row of missing values and returns its index, or -1
// when the request has more rows than allowed.
func (rs *rowSet) row() int {
	if rs.n == rs.max {
		rs.refuse(&inputError{status: http.StatusRequestEntityTooLarge, reason: ReasonTooManyInstances,
			msg: fmt.Sprintf("more than %d rows: at most %d per request", rs.max, rs.max)})
		return -1
	}
	for range rs.nf {
		rs.flat = append(rs.flat, math.NaN())
	}
	clear(rs.present)
	rs.n++
	return rs.n - 1
}

// problem records a field problem of feature j (-1: a field that is not
// one) of row (-1: of the whole request, listed first).
func (rs *rowSet) problem(row, j int, field, reason, msg string) {
	if len(rs.problems) == maxProblems {
		rs.dropped = true
		return
	}
	// a row's fields that are not features first (a typo's name is the
	// better clue), then the features in schema order
	p := FieldProblem{Field: field, Reason: reason, Message: msg, order: (row+1)*(rs.nf+1) + max(j+1, 0)}
	if row >= 0 && rs.batch {
		p.Instance = &row
	}
	rs.problems = append(rs.problems, p)
}

// feature looks a field name up; -1 for a name that is not a feature
// (refused, or dropped by the ignore policy).
func (rs *rowSet) feature(row int, name []byte) int {
	j := rs.enc.IndexBytes(name)
	if j < 0 && !rs.ignoreUnknown {
		f := data.Short(name)
		rs.problem(row, -1, f, ReasonUnknownFeature, fmt.Sprintf("field %q: not a feature of the model", f))
	}
	return j
}

// give marks feature j as given in the current record; false (and a
// problem) when it was given already.
func (rs *rowSet) give(row, j int) bool {
	if rs.present[j] {
		name := rs.enc.Schema().Features[j].Name
		rs.problem(row, j, name, ReasonDuplicate, fmt.Sprintf("field %q: given twice", name))
		return false
	}
	rs.present[j] = true
	return true
}

// requireGiven records a missing_feature problem for each required feature
// not given in the current record (or, for columnar formats, the columns).
func (rs *rowSet) requireGiven(row int) {
	for j, f := range rs.enc.Schema().Features {
		if !rs.present[j] && f.Required {
			rs.problem(row, j, f.Name, ReasonMissingFeature, fmt.Sprintf("field %q: required feature is missing", f.Name))
		}
	}
}

// note records what encoding a value of feature j in row found; got
// renders the value, called only when there is something to say.
func (rs *rowSet) note(row, j int, v float64, n data.Note, got func() string) {
	if n == data.NoteNone {
		rs.flat[row*rs.nf+j] = v
		return
	}
	name := rs.enc.Schema().Features[j].Name
	if n.Refusal() || rs.strict {
		reason := n.Reason()
		if n.Refusal() {
			reason = refusalReason(n)
		}
		rs.problem(row, j, name, reason, fmt.Sprintf("field %q: %s", name, rs.enc.Message(j, n, got())))
		if n == data.NoteUnseen {
			rs.unseen = append(rs.unseen, j)
		}
		return
	}
	rs.flat[row*rs.nf+j] = v
	if k := len(rs.warns); k > 0 && (rs.warns[k-1].row > row || rs.warns[k-1].row == row && rs.warns[k-1].feature > j) {
		rs.unsorted = true
	}
	rs.warns = append(rs.warns, rowWarning{row, j, Warning{Field: name, Reason: n.Reason(), Message: rs.enc.Message(j, n, got())}})
	if n == data.NoteUnseen {
		rs.unseen = append(rs.unseen, j)
	}
}

// refusalReason maps an encoder refusal to a reason of the error answer.
func refusalReason(n data.Note) string {
	switch n {
	case data.NoteNotFinite:
		return ReasonNotFinite
	case data.NoteWrongType:
		return ReasonWrongType
	}
	return n.Reason() // not_a_code, ambiguous_category
}

// value reads the next JSON value of the scanner as feature j of row (j
// < 0: skipped).
func (rs *rowSet) value(sc *scanner, row, j int) bool {
	if j < 0 {
		return sc.skip()
	}
	switch sc.kind() {
	case kindNumber:
		t, ok := sc.number()
		if !ok {
			return false
		}
		f, ok := data.ParseDecimal(t)
		if !ok {
			var err error
			if f, err = strconv.ParseFloat(string(t), 64); err != nil {
				f = math.Inf(1) // only a range error gets here: 1e999
			}
		}
		v, n := rs.enc.Number(j, f)
		rs.note(row, j, v, n, func() string { q := data.Quote(t); return q[1 : len(q)-1] })
	case kindString:
		t, ok := sc.str(&sc.val)
		if !ok {
			return false
		}
		v, n := rs.enc.StringBytes(j, t)
		rs.note(row, j, v, n, func() string { return "the string " + data.Quote(t) })
	case kindNull:
		if !sc.literal("null") {
			return false
		}
		v, n := rs.enc.Null(j)
		rs.note(row, j, v, n, func() string { return "null" })
	default:
		k := sc.kind()
		if !sc.skip() {
			return false
		}
		rs.note(row, j, 0, data.NoteWrongType, func() string { return "a JSON " + kindNames[k] })
	}
	return true
}

// float encodes a number that has no text of its own (an element of a
// binary tensor) as feature j of row.
func (rs *rowSet) float(row, j int, f float64) {
	v, n := rs.enc.Number(j, f)
	rs.note(row, j, v, n, func() string { return strconv.FormatFloat(f, 'g', -1, 64) })
}

// text encodes a string that is not JSON (an element of a binary BYTES
// tensor) as feature j of row, as a JSON string is.
func (rs *rowSet) text(row, j int, t []byte) {
	v, n := rs.enc.StringBytes(j, t)
	rs.note(row, j, v, n, func() string { return "the string " + data.Quote(t) })
}

// cell encodes a CSV field as feature j of row (j < 0: ignored).
func (rs *rowSet) cell(row, j int, s string) {
	if j < 0 {
		return
	}
	v, n := rs.enc.Cell(j, s)
	rs.note(row, j, v, n, func() string { return data.Quote(s) })
}

// result returns the rows, or the refusal: a request-level one, else the
// field problems.
func (rs *rowSet) result(x [][]float64) ([][]float64, *inputError) {
	if rs.fatal != nil {
		return nil, rs.fatal
	}
	if len(rs.problems) > 0 {
		slices.SortStableFunc(rs.problems, func(a, b FieldProblem) int { return cmp.Compare(a.order, b.order) })
		return nil, invalid(rs.problems, rs.dropped)
	}
	if rs.unsorted { // warnings are listed by row, then schema order
		slices.SortStableFunc(rs.warns, func(a, b rowWarning) int { return cmp.Or(cmp.Compare(a.row, b.row), cmp.Compare(a.feature, b.feature)) })
		rs.unsorted = false
	}
	x = x[:0]
	for i := range rs.n {
		x = append(x, rs.flat[i*rs.nf:(i+1)*rs.nf:(i+1)*rs.nf])
	}
	return x, nil
}

// warnings returns row i's warnings (nil when none); call after result.
func (rs *rowSet) warnings(i int) []Warning {
	lo, _ := slices.BinarySearchFunc(rs.warns, i, func(w rowWarning, i int) int { return cmp.Compare(w.row, i) })
	hi := lo
	for hi < len(rs.warns) && rs.warns[hi].row == i {
		hi++
	}
	if lo == hi {
		return nil
	}
	out := make([]Warning, hi-lo)
	for k := range out {
		out[k] = rs.warns[lo+k].Warning
	}
	return out
}

package serve

// MLflow's scoring protocol on /invocations: the four JSON formats of
// pandas frames and tensors, and CSV, read into a rowSet; values mean what
// they mean on every other path (data.Encoder).

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// The formats of an /invocations JSON body.
var (
	invocationKeys = []string{"dataframe_split", "dataframe_records", "instances", "inputs"}
	wantInvocation = "an object with one of " + strings.Join(invocationKeys, ", ")
)

// decodeInvocations reads MLflow's scoring protocol: exactly one of
// dataframe_split, dataframe_records, instances or inputs (records, rows
// in the signature's order, or columns), and optional params, which these
// models do not take and are ignored.
func decodeInvocations(sc *scanner, rs *rowSet, b []byte) {
	sc.reset(b)
	rs.batch = true
	if !topObject(sc, rs, wantInvocation) {
		return
	}
	var format string
	for first := true; !rs.stop() && sc.more('}', first); first = false {
		k, ok := sc.str(&sc.key)
		if !ok || !sc.consume(':', "':'") {
			break
		}
		var key string
		switch string(k) {
		case "params":
			sc.skip()
			continue
		case "dataframe_split":
			key = "dataframe_split"
		case "dataframe_records":
			key = "dataframe_records"
		case "instances":
			key = "instances"
		case "inputs":
			key = "inputs"
		default:
			rs.refuse(badRequest(ReasonBadRequest, "%s: unexpected field (want one of %s, and params)", shortName(k), strings.Join(invocationKeys, ", ")))
			continue
		}
		if format != "" {
			rs.refuse(badRequest(ReasonBadRequest, "the request has both %s and %s: send exactly one", format, key))
			continue
		}
		format = key
		switch key {
		case "dataframe_split":
			split(sc, rs, key)
		case "dataframe_records":
			rs.list(sc, key, "", func(i int) bool { return rs.record(sc, key, i) })
		default:
			tensor(sc, rs, key)
		}
	}
	if format == "" && !rs.stop() && !sc.failed() {
		rs.refuse(badRequest(ReasonBadRequest, "the request has none of %s", strings.Join(invocationKeys, ", ")))
	}
	finish(sc, rs)
}

// tensor reads instances or inputs: a list of records, a list of rows in
// the signature's order, or an object of columns.
func tensor(sc *scanner, rs *rowSet, key string) {
	switch sc.kind() {
	case kindObject:
		columnar(sc, rs, key)
		return
	case kindArray:
	default:
		k := sc.kind()
		if sc.skip() {
			rs.refuse(badRequest(ReasonBadRequest, "%s: is a JSON %s, want a list of records or rows, or an object of columns", key, kindNames[k]))
		}
		return
	}
	// The first element tells records from rows.
	save := sc.pos
	sc.pos++
	rows := sc.kind() == kindArray
	sc.pos = save
	if !rows {
		rs.list(sc, key, "", func(i int) bool { return rs.record(sc, key, i) })
		return
	}
	nf := len(rs.enc.Schema().Features)
	rs.list(sc, key, "", func(i int) bool {
		if sc.kind() != kindArray {
			return rs.badRow(sc, "%s[%d]: want a list of %d values in the order of the model's features", key, i, nf)
		}
		row := rs.row()
		if row < 0 {
			return false
		}
		sc.pos++
		n := 0
		for first := true; sc.more(']', first); first = false {
			if n == nf {
				return rs.badRow(sc, "%s[%d]: want a list of %d values in the order of the model's features", key, i, nf)
			}
			if !rs.value(sc, row, n) || rs.stop() {
				return false
			}
			n++
		}
		if n != nf && !sc.failed() {
			return rs.badRow(sc, "%s[%d]: want a list of %d values in the order of the model's features", key, i, nf)
		}
		return !sc.failed()
	})
}

// badRow refuses the request for a row of the wrong shape.
func (rs *rowSet) badRow(sc *scanner, format string, args ...any) bool {
	rs.refuse(badRequest(ReasonBadRequest, format, args...))
	return false
}

// columns maps a frame's column names to features (-1: ignored) into
// cols, refusing a name given twice; the features they lack are checked
// with requireGiven.
func (rs *rowSet) column(cols []int, where string, name []byte) []int {
	j := rs.feature(-1, name)
	if j >= 0 {
		if rs.present[j] {
			rs.refuse(badRequest(ReasonBadRequest, "%s: column %q appears twice", where, shortName(name)))
		}
		rs.present[j] = true
	}
	return append(cols, j)
}

// split reads dataframe_split: {"columns": [...], "data": [[...]],
// "index": [...]}, in any order.
func split(sc *scanner, rs *rowSet, key string) {
	if k := sc.kind(); k != kindObject {
		if sc.skip() {
			rs.refuse(badRequest(ReasonBadRequest, "%s: is a JSON %s, want {\"columns\": [...], \"data\": [[...]]}", key, kindNames[k]))
		}
		return
	}
	sc.pos++
	cols := rs.cols[:0]
	defer func() { rs.cols = cols[:0] }()
	haveCols, data := false, -1
	for first := true; !rs.stop() && sc.more('}', first); first = false {
		k, ok := sc.str(&sc.key)
		if !ok || !sc.consume(':', "':'") {
			return
		}
		switch string(k) {
		case "columns":
			if haveCols {
				rs.refuse(badRequest(ReasonBadRequest, "%s.columns: given twice", key))
				return
			}
			if sc.kind() != kindArray {
				sc.skip()
				rs.refuse(badRequest(ReasonBadRequest, "%s.columns: not a list of names", key))
				return
			}
			if known := rs.knownColumns(); known != nil && bytes.HasPrefix(sc.b[sc.pos:], known.raw) {
				// the same columns as a request before: the same features
				cols = append(cols, known.cols...)
				for _, j := range known.cols {
					rs.present[j] = true
				}
				sc.pos += len(known.raw)
				haveCols = true
				continue
			}
			start, problems := sc.pos, len(rs.problems)
			sc.pos++
			for first := true; !rs.stop() && sc.more(']', first); first = false {
				if k := sc.kind(); k != kindString {
					sc.skip()
					rs.refuse(badRequest(ReasonBadRequest, "%s.columns[%d]: is a JSON %s, want a name", key, len(cols), kindNames[k]))
					return
				}
				name, ok := sc.str(&sc.val)
				if !ok {
					return
				}
				cols = rs.column(cols, key, name)
			}
			haveCols = true
			rs.requireGiven(-1)
			if !rs.stop() && !sc.failed() && len(rs.problems) == problems && !slices.Contains(cols, -1) {
				rs.rememberColumns(sc.b[start:sc.pos], cols)
			}
		case "data":
			if data != -1 {
				rs.refuse(badRequest(ReasonBadRequest, "%s.data: given twice", key))
				return
			}
			if haveCols {
				splitData(sc, rs, key, cols)
				data = -2 // read
				continue
			}
			if data, ok = sc.span(); !ok { // before the columns: read it after them
				return
			}
		case "index":
			sc.skip()
		default:
			sc.skip()
			rs.refuse(badRequest(ReasonBadRequest, "%s.%s: unexpected field (want columns, data, index)", key, shortName(k)))
			return
		}
	}
	if rs.stop() || sc.failed() {
		return
	}
	if !haveCols {
		rs.refuse(badRequest(ReasonBadRequest, "%s.columns: missing: send the column names", key))
		return
	}
	switch data {
	case -1:
		rs.refuse(badRequest(ReasonBadRequest, "%s.data: missing: send the rows", key))
	case -2: // read in place
	default:
		end := sc.pos
		sc.pos = data
		splitData(sc, rs, key, cols)
		if !sc.failed() {
			sc.pos = end
		}
	}
}

// splitData reads a dataframe_split's rows, whose columns map to cols.
func splitData(sc *scanner, rs *rowSet, key string, cols []int) {
	rs.list(sc, key, ".data", func(i int) bool {
		if sc.kind() != kindArray {
			return rs.badRow(sc, "%s.data[%d]: want a list of %d values, one per column", key, i, len(cols))
		}
		row := rs.row()
		if row < 0 {
			return false
		}
		sc.pos++
		c := 0
		for first := true; sc.more(']', first); first = false {
			if c == len(cols) {
				return rs.badRow(sc, "%s.data[%d]: want a list of %d values, one per column", key, i, len(cols))
			}
			if !rs.value(sc, row, cols[c]) || rs.stop() {
				return false
			}
			c++
		}
		if c != len(cols) && !sc.failed() {
			return rs.badRow(sc, "%s.data[%d]: want a list of %d values, one per column", key, i, len(cols))
		}
		return !sc.failed()
	})
}

// columnar reads {"feature": [values], …}: a first pass finds the
// columns and their length, the second reads the values into rows.
func columnar(sc *scanner, rs *rowSet, key string) {
	sc.pos++
	type column struct{ feature, at int }
	var cols []column
	n := -1
	for first := true; !rs.stop() && sc.more('}', first); first = false {
		name, ok := sc.str(&sc.key)
		if !ok || !sc.consume(':', "':'") {
			return
		}
		j := rs.feature(-1, name)
		if j >= 0 {
			if rs.present[j] {
				rs.refuse(badRequest(ReasonBadRequest, "%s: column %q appears twice", key, shortName(name)))
				return
			}
			rs.present[j] = true
		}
		if k := sc.kind(); k != kindArray {
			sc.skip()
			rs.refuse(badRequest(ReasonBadRequest, "%s.%s: is a JSON %s, want a list of values", key, shortName(name), kindNames[k]))
			return
		}
		at := sc.pos
		sc.pos++
		m := 0
		for first := true; sc.more(']', first); first = false {
			if !sc.skip() {
				return
			}
			m++
		}
		if n >= 0 && m != n {
			rs.refuse(badRequest(ReasonBadRequest, "%s.%s: %d values, other columns have %d", key, shortName(name), m, n))
			return
		}
		n = m
		cols = append(cols, column{j, at})
	}
	if rs.stop() || sc.failed() {
		return
	}
	if n <= 0 {
		rs.refuse(badRequest(ReasonBadRequest, "%s: no rows", key))
		return
	}
	if n > rs.max {
		rs.refuse(&inputError{status: http.StatusRequestEntityTooLarge, reason: ReasonTooManyInstances,
			msg: fmt.Sprintf("%s: %d rows, at most %d per request", key, n, rs.max)})
		return
	}
	rs.requireGiven(-1)
	for range n {
		rs.row()
	}
	end := sc.pos
	for _, c := range cols {
		if c.feature < 0 {
			continue
		}
		sc.pos = c.at + 1
		for i := range n {
			if i > 0 {
				sc.consume(',', "','")
			}
			if !rs.value(sc, i, c.feature) || rs.stop() {
				return
			}
		}
	}
	sc.pos = end
}

// decodeCSV reads a text/csv body as MLflow does with pandas: a header row
// of column names, then rows; each field is text, read by the encoder's
// rules for CSV cells (the same as pipeline predict's).
func decodeCSV(rs *rowSet, b []byte) {
	rs.batch = true
	if !utf8.Valid(b) {
		rs.refuse(badRequest(ReasonMalformedCSV, "CSV body is not valid UTF-8"))
		return
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		rs.refuse(csvError(err))
		return
	}
	cols := rs.cols[:0]
	defer func() { rs.cols = cols[:0] }()
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		cols = rs.column(cols, "text/csv", []byte(strings.TrimSpace(h)))
	}
	rs.requireGiven(-1)
	if rs.stop() {
		return
	}
	for !rs.stop() {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			rs.refuse(csvError(err))
			return
		}
		row := rs.row()
		if row < 0 {
			return
		}
		for c, f := range rec {
			rs.cell(row, cols[c], f)
		}
	}
	if rs.n == 0 && !rs.stop() {
		rs.refuse(badRequest(ReasonMalformedCSV, "CSV body needs a header row and at least one row"))
	}
}

func csvError(err error) *inputError {
	if errors.Is(err, io.EOF) {
		return badRequest(ReasonMalformedCSV, "CSV body needs a header row and at least one row")
	}
	return badRequest(ReasonMalformedCSV, "malformed CSV: %v", err)
}

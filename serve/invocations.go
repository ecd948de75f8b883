package serve

// MLflow's scoring protocol on /invocations: the four JSON formats of
// pandas frames and tensors, and CSV, decoded straight into model rows.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/creditrisk/engine/data"
)

// decodeInvocations reads MLflow's scoring protocol: exactly one of
// dataframe_split, dataframe_records, instances or inputs (and optional
// params, which these models do not take and are ignored). Values follow
// the model signature, as mlflow.pyfunc takes them: numbers, category codes
// (or category strings, looked up among the levels), null for missing.
func decodeInvocations(s *snapshot, b []byte, max int, ignoreUnknown bool) (x [][]float64, unseen []string, e *inputError) {
	v, e := decodeJSON(b)
	if e != nil {
		return nil, nil, e
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, nil, badRequest(ReasonBadRequest, "request body is a JSON %s: send an object with one of dataframe_split, dataframe_records, instances, inputs", jsonKind(v))
	}
	var key string
	for _, k := range []string{"dataframe_split", "dataframe_records", "instances", "inputs"} {
		if _, ok := obj[k]; ok {
			if key != "" {
				return nil, nil, badRequest(ReasonBadRequest, "the request has both %s and %s: send exactly one", key, k)
			}
			key = k
		}
	}
	if key == "" {
		return nil, nil, badRequest(ReasonBadRequest, "the request has none of dataframe_split, dataframe_records, instances, inputs (found %s)", otherKeys(obj, ""))
	}
	for k := range obj {
		if k != key && k != "params" {
			return nil, nil, badRequest(ReasonBadRequest, "%s: unexpected field next to %s", k, key)
		}
	}
	d := invDecoder{s: s, max: max, ignoreUnknown: ignoreUnknown}
	switch key {
	case "dataframe_split":
		d.split(key, obj[key])
	case "dataframe_records":
		d.records(key, obj[key])
	default:
		switch in := obj[key].(type) {
		case map[string]any:
			d.columnar(key, in)
		case []any:
			if len(in) > 0 {
				if _, ok := in[0].([]any); ok {
					d.positional(key, in)
					break
				}
			}
			d.records(key, in)
		default:
			d.fail(badRequest(ReasonBadRequest, "%s: is a JSON %s, want a list of records or rows, or an object of columns", key, jsonKind(in)))
		}
	}
	if d.err != nil {
		return nil, d.unseen, d.err
	}
	if len(d.problems) > 0 {
		return nil, d.unseen, invalid(d.problems)
	}
	return d.rows, d.unseen, nil
}

// decodeCSV reads a text/csv /invocations body as MLflow does with pandas:
// a header row of column names, then rows; an empty field (or NA, NaN,
// null) is missing, a number is a number, anything else a string.
func decodeCSV(s *snapshot, b []byte, max int, ignoreUnknown bool) ([][]float64, []string, *inputError) {
	if !utf8.Valid(b) {
		return nil, nil, badRequest(ReasonMalformedCSV, "CSV body is not valid UTF-8")
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.ReuseRecord = false
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, nil, badRequest(ReasonMalformedCSV, "malformed CSV: %v", err)
	}
	if len(recs) < 2 {
		return nil, nil, badRequest(ReasonMalformedCSV, "CSV body needs a header row and at least one row")
	}
	cols := make([]any, len(recs[0]))
	for i, c := range recs[0] {
		cols[i] = strings.TrimPrefix(c, "\ufeff")
	}
	rows := make([]any, len(recs)-1)
	for i, rec := range recs[1:] {
		vals := make([]any, len(rec))
		for j, f := range rec {
			switch f {
			case "", "NA", "NaN", "nan", "null":
				vals[j] = nil
				continue
			}
			if _, err := strconv.ParseFloat(f, 64); err == nil {
				vals[j] = json.Number(f)
			} else {
				vals[j] = f
			}
		}
		rows[i] = vals
	}
	d := invDecoder{s: s, max: max, ignoreUnknown: ignoreUnknown}
	d.split("text/csv", map[string]any{"columns": cols, "data": rows})
	if d.err != nil {
		return nil, d.unseen, d.err
	}
	if len(d.problems) > 0 {
		return nil, d.unseen, invalid(d.problems)
	}
	return d.rows, d.unseen, nil
}

type invDecoder struct {
	s             *snapshot
	max           int
	ignoreUnknown bool
	rows          [][]float64
	unseen        []string
	problems      []FieldProblem
	err           *inputError
}

func (d *invDecoder) fail(e *inputError) {
	if d.err == nil {
		d.err = e
	}
}

func (d *invDecoder) count(key string, n int) bool {
	if n == 0 {
		d.fail(badRequest(ReasonBadRequest, "%s: no rows", key))
		return false
	}
	if n > d.max {
		d.fail(&inputError{status: http.StatusRequestEntityTooLarge, reason: ReasonTooManyInstances,
			msg: fmt.Sprintf("%s: %d rows, at most %d per request", key, n, d.max)})
		return false
	}
	return true
}

// columns maps the request's column names to feature positions (-1 for an
// ignored unknown column) and checks required features are present.
func (d *invDecoder) columns(key string, names []string) []int {
	pos := make([]int, len(names))
	seen := make([]bool, len(d.s.schema.Features))
	for i, n := range names {
		j, ok := d.s.index[n]
		switch {
		case !ok && d.ignoreUnknown:
			pos[i] = -1
			continue
		case !ok:
			d.problems = append(d.problems, FieldProblem{Field: n, Reason: ReasonUnknownFeature,
				Message: fmt.Sprintf("%s: %q is not a feature of the model", key, n)})
			pos[i] = -1
			continue
		case seen[j]:
			d.fail(badRequest(ReasonBadRequest, "%s: column %q appears twice", key, n))
		}
		seen[j] = true
		pos[i] = j
	}
	for j, f := range d.s.schema.Features {
		if !seen[j] && f.Required {
			d.problems = append(d.problems, FieldProblem{Field: f.Name, Reason: ReasonMissingFeature,
				Message: fmt.Sprintf("%s: required feature %q is missing", key, f.Name)})
		}
	}
	return pos
}

func (d *invDecoder) newRow() []float64 {
	r := make([]float64, len(d.s.schema.Features))
	for i := range r {
		r[i] = math.NaN()
	}
	return r
}

func (d *invDecoder) split(key string, v any) {
	obj, ok := v.(map[string]any)
	if !ok {
		d.fail(badRequest(ReasonBadRequest, "%s: is a JSON %s, want {\"columns\": [...], \"data\": [[...]]}", key, jsonKind(v)))
		return
	}
	for k := range obj {
		if k != "columns" && k != "data" && k != "index" {
			d.fail(badRequest(ReasonBadRequest, "%s.%s: unexpected field (want columns, data, index)", key, k))
			return
		}
	}
	cols, ok := obj["columns"].([]any)
	if !ok {
		d.fail(badRequest(ReasonBadRequest, "%s.columns: missing or not a list of names", key))
		return
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		if names[i], ok = c.(string); !ok {
			d.fail(badRequest(ReasonBadRequest, "%s.columns[%d]: is a JSON %s, want a name", key, i, jsonKind(c)))
			return
		}
	}
	rows, ok := obj["data"].([]any)
	if !ok {
		d.fail(badRequest(ReasonBadRequest, "%s.data: missing or not a list of rows", key))
		return
	}
	if !d.count(key+".data", len(rows)) {
		return
	}
	pos := d.columns(key, names)
	if d.err != nil {
		return
	}
	for i, r := range rows {
		vals, ok := r.([]any)
		if !ok || len(vals) != len(names) {
			d.fail(badRequest(ReasonBadRequest, "%s.data[%d]: want a list of %d values, one per column", key, i, len(names)))
			return
		}
		row := d.newRow()
		for c, val := range vals {
			d.set(row, pos[c], val, i)
		}
		d.rows = append(d.rows, row)
	}
}

func (d *invDecoder) records(key string, v any) {
	list, ok := v.([]any)
	if !ok {
		d.fail(badRequest(ReasonBadRequest, "%s: is a JSON %s, want a list of records", key, jsonKind(v)))
		return
	}
	if !d.count(key, len(list)) {
		return
	}
	for i, it := range list {
		rec, ok := it.(map[string]any)
		if !ok {
			d.fail(badRequest(ReasonBadRequest, "%s[%d]: is a JSON %s, want an object of feature values", key, i, jsonKind(it)))
			return
		}
		names := make([]string, 0, len(rec))
		for k := range rec {
			names = append(names, k)
		}
		sort.Strings(names)
		n := len(d.problems)
		pos := d.columns(fmt.Sprintf("%s[%d]", key, i), names)
		for j := n; j < len(d.problems); j++ {
			d.problems[j].Instance = &i
		}
		row := d.newRow()
		for c, name := range names {
			d.set(row, pos[c], rec[name], i)
		}
		d.rows = append(d.rows, row)
	}
}

func (d *invDecoder) columnar(key string, obj map[string]any) {
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	sort.Strings(names)
	n := -1
	for _, name := range names {
		col, ok := obj[name].([]any)
		if !ok {
			d.fail(badRequest(ReasonBadRequest, "%s.%s: is a JSON %s, want a list of values", key, name, jsonKind(obj[name])))
			return
		}
		if n >= 0 && len(col) != n {
			d.fail(badRequest(ReasonBadRequest, "%s.%s: %d values, other columns have %d", key, name, len(col), n))
			return
		}
		n = len(col)
	}
	if !d.count(key, max(n, 0)) {
		return
	}
	pos := d.columns(key, names)
	for i := 0; i < n; i++ {
		row := d.newRow()
		for c, name := range names {
			d.set(row, pos[c], obj[name].([]any)[i], i)
		}
		d.rows = append(d.rows, row)
	}
}

// positional takes rows as lists in the signature's feature order.
func (d *invDecoder) positional(key string, list []any) {
	if !d.count(key, len(list)) {
		return
	}
	nf := len(d.s.schema.Features)
	for i, it := range list {
		vals, ok := it.([]any)
		if !ok || len(vals) != nf {
			d.fail(badRequest(ReasonBadRequest, "%s[%d]: want a list of %d values in the order of the model's features", key, i, nf))
			return
		}
		row := d.newRow()
		for j, val := range vals {
			if val == nil && d.s.schema.Features[j].Required {
				d.problems = append(d.problems, FieldProblem{Instance: &i, Field: d.s.schema.Features[j].Name,
					Reason: ReasonMissingFeature, Message: fmt.Sprintf("required feature %q is null", d.s.schema.Features[j].Name)})
				continue
			}
			d.set(row, j, val, i)
		}
		d.rows = append(d.rows, row)
	}
}

// set encodes one value into row[j] by signature semantics.
func (d *invDecoder) set(row []float64, j int, val any, inst int) {
	if j < 0 {
		return
	}
	f := d.s.schema.Features[j]
	bad := func(reason, format string, args ...any) {
		d.problems = append(d.problems, FieldProblem{Instance: &inst, Field: f.Name, Reason: reason,
			Message: fmt.Sprintf("%s: ", f.Name) + fmt.Sprintf(format, args...)})
	}
	switch v := val.(type) {
	case nil:
		if f.Required {
			bad(ReasonMissingFeature, "required feature is null")
		}
		return // NaN: missing
	case json.Number:
		x, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			bad(ReasonNotFinite, "%s is not a finite number", v)
			return
		}
		if f.Type == data.Categorical {
			if x != math.Trunc(x) {
				bad(ReasonWrongType, "%s is not a category code (an integer)", v)
				return
			}
			if x < 0 || x >= float64(len(f.Levels)) {
				d.unseen = append(d.unseen, f.Name)
				return // an unseen category scores as missing
			}
		}
		row[j] = x
	case string:
		if f.Type != data.Categorical {
			switch v {
			case "NaN", "nan":
				return // pandas writes missing numbers this way
			}
			bad(ReasonWrongType, "got a string, want a number")
			return
		}
		switch v {
		case "", "NA", "NaN", "nan", "null":
			return
		}
		for c, l := range f.Levels {
			if l == v {
				row[j] = float64(c)
				return
			}
		}
		d.unseen = append(d.unseen, f.Name)
	default:
		bad(ReasonWrongType, "got a JSON %s, want a number or null", jsonKind(val))
	}
}

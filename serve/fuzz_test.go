package serve

import (
	"bytes"
	"encoding/json"
	"math"
	"sync"
	"testing"
	"unicode/utf8"
)

var (
	fuzzOnce sync.Once
	fuzzSnap *snapshot
)

func fuzzSnapshot(t testing.TB) *snapshot {
	fuzzOnce.Do(func() {
		s, _, _ := loaded(t, Options{})
		fuzzSnap = s.current.Load()
	})
	return fuzzSnap
}

func seeds(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"instances": []}`, `{"instances": [{}]}`, `{"instances": [1]}`, `[]`, `null`, `"x"`, `{`,
		`{"duration_in_month": 12, "credit_amount": 1000}`, `{"duration_in_month": "12"}`, `{"duration_in_month": 1e999}`,
		`{"purpose": 3}`, `{"purpose": "car (new)"}`, `{"purpose": null}`, `{"instances": [{"a":1}], "b": 2}`,
		`{"dataframe_split": {"columns": ["duration_in_month"], "data": [[1]]}}`,
		`{"dataframe_split": {"data": [[1]], "columns": ["duration_in_month"]}}`,
		`{"dataframe_split": {"columns": ["duration_in_month"], "data": [[1]], "data": [[2]]}}`,
		`{"inputs": [[1],[1],[1],[1],[1],[1],[1],[1],[1],[1],[1],[1]]}`,
		`{"dataframe_split": {"columns": ["duration_in_month", "duration_in_month"], "data": [[1, 2]]}}`,
		`{"dataframe_split": {"columns": [1], "data": [[1]]}}`, `{"dataframe_records": [{"purpose": 1.5}]}`,
		`{"dataframe_records": [{"purpose": -1}]}`, `{"inputs": {"duration_in_month": [1, 2], "purpose": [1]}}`,
		`{"inputs": [[1, 2, 3]]}`, `{"instances": [[null]]}`, `{"inputs": [], "params": {"a": 1}}`,
		`{"dataframe_split": {"columns": [], "data": []}, "x": 1}`, `{"a":1}{"b":2}`, "\xff\xfe",
		`{"purpose": "\u00e9\ud83d\ude00\ud800"}`, `{"a\"b": [1, {"c": [true, false, null]}]}`, `[[[[[[[[[[]]]]]]]]]]`,
		`{"duration_in_month": -0.0e+1, "x": 1E-2}`, `{"duration_in_month": 01}`, `{"x": "\q"}`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzScanner: the scanner accepts exactly the JSON encoding/json accepts
// (documents nested at most maxDepth deep), and reads strings as it does.
func FuzzScanner(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var sc scanner
		sc.reset(b)
		ok := sc.skip() && sc.end()
		if want := json.Valid(b); ok != want && !(want && depth(b) > maxDepth) {
			t.Fatalf("scanner says valid=%v (%s), encoding/json %v", ok, sc.err, want)
		}
		if !ok && sc.err == "" {
			t.Fatal("refused without a message")
		}
		var want string
		if bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte(`"`)) && json.Unmarshal(b, &want) == nil {
			sc.reset(b)
			got, ok := sc.str(&sc.val)
			if !ok || string(got) != want && want != validUTF8(got) {
				t.Fatalf("string %q read as %q (%v), encoding/json %q", b, got, ok, want)
			}
		}
	})
}

// validUTF8 replaces each invalid byte by U+FFFD, as encoding/json does.
func validUTF8(b []byte) string {
	var out []rune
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		out = append(out, r)
		b = b[n:]
	}
	return string(out)
}

func depth(b []byte) int {
	d, m := 0, 0
	for _, c := range b {
		switch c {
		case '[', '{':
			d++
			m = max(m, d)
		case ']', '}':
			d--
		}
	}
	return m
}

// FuzzDecodePredict: no body makes the /predict decoder panic, every
// refusal is a 4xx naming a reason, and an accepted single object scores
// what data.Schema.EncodeRow makes of the same object decoded by
// encoding/json.
func FuzzDecodePredict(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		snap := fuzzSnapshot(t)
		for _, ignore := range []bool{false, true} {
			var sc scanner
			var rs rowSet
			rs.reset(snap.enc, 10, ignore, false)
			batch := decodePredict(&sc, &rs, b)
			x, e := rs.result(nil)
			if e != nil {
				checkRefusal(t, e)
				continue
			}
			checkRows(t, snap, x, -1)
			if batch || ignore {
				continue
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			var row map[string]any
			if err := dec.Decode(&row); err != nil {
				t.Fatalf("accepted a body encoding/json refuses: %v", err)
			}
			want, _, err := snap.schema.EncodeRow(row)
			if err != nil {
				// EncodeRow keeps the last of keys given twice; /predict refuses them.
				continue
			}
			for j := range want {
				if !(want[j] == x[0][j] || math.IsNaN(want[j]) && math.IsNaN(x[0][j])) {
					t.Fatalf("feature %d: %v, EncodeRow %v", j, x[0][j], want[j])
				}
			}
		}
	})
}

// FuzzDecodeInvocations: the same for MLflow's scoring protocol.
func FuzzDecodeInvocations(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		snap := fuzzSnapshot(t)
		for _, ignore := range []bool{false, true} {
			var sc scanner
			var rs rowSet
			rs.reset(snap.enc, 10, ignore, false)
			decodeInvocations(&sc, &rs, b)
			x, e := rs.result(nil)
			if e != nil {
				checkRefusal(t, e)
				continue
			}
			checkRows(t, snap, x, -1)
			if !json.Valid(b) {
				t.Fatalf("accepted a body encoding/json refuses")
			}
		}
	})
}

// FuzzDecodeCSV: the same for text/csv bodies.
func FuzzDecodeCSV(f *testing.F) {
	for _, s := range []string{"", "a\n", "duration_in_month\n12\n", "a,\"b\n1\n", "duration_in_month,purpose\n1,2\n3,\n",
		"\ufeffduration_in_month\nNaN\n", "x,y\n1,2,3\n", "purpose\ninf\n", "purpose\n-1\n", "\xff\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		snap := fuzzSnapshot(t)
		for _, ignore := range []bool{false, true} {
			var rs rowSet
			rs.reset(snap.enc, 10, ignore, false)
			decodeCSV(&rs, b)
			x, e := rs.result(nil)
			if e != nil {
				checkRefusal(t, e)
				continue
			}
			checkRows(t, snap, x, -1)
		}
	})
}

func checkRefusal(t *testing.T, e *inputError) {
	t.Helper()
	if e.status < 400 || e.status >= 500 || e.reason == "" || e.msg == "" {
		t.Fatalf("refusal %+v is not a 4xx with a reason and message", e)
	}
	if len(e.fields) > maxProblems {
		t.Fatalf("%d field problems, at most %d", len(e.fields), maxProblems)
	}
	for _, f := range e.fields {
		if f.Reason == "" || f.Message == "" || len(f.Field) > 200 || len(f.Message) > 1000 {
			t.Fatalf("field problem %+v lacks a reason or message, or is unbounded", f)
		}
	}
}

func checkRows(t *testing.T, snap *snapshot, x [][]float64, n int) {
	t.Helper()
	if len(x) == 0 || len(x) > 10 || (n >= 0 && len(x) != n) {
		t.Fatalf("%d rows accepted", len(x))
	}
	for _, r := range x {
		if len(r) != len(snap.schema.Features) {
			t.Fatalf("row of %d values", len(r))
		}
	}
	if _, err := snap.model.Predict(x); err != nil {
		t.Fatalf("accepted rows fail to predict: %v", err)
	}
}

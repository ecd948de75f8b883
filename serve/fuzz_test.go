package serve

import (
	"sync"
	"testing"
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
		`{"dataframe_split": {"columns": ["duration_in_month", "duration_in_month"], "data": [[1, 2]]}}`,
		`{"dataframe_split": {"columns": [1], "data": [[1]]}}`, `{"dataframe_records": [{"purpose": 1.5}]}`,
		`{"dataframe_records": [{"purpose": -1}]}`, `{"inputs": {"duration_in_month": [1, 2], "purpose": [1]}}`,
		`{"inputs": [[1, 2, 3]]}`, `{"instances": [[null]]}`, `{"inputs": [], "params": {"a": 1}}`,
		`{"dataframe_split": {"columns": [], "data": []}, "x": 1}`, `{"a":1}{"b":2}`, "\xff\xfe",
	} {
		f.Add([]byte(s))
	}
}

// FuzzDecodePredict: no body makes the /predict decoder panic, and every
// refusal is a 4xx naming a reason.
func FuzzDecodePredict(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		snap := fuzzSnapshot(t)
		rows, batch, e := decodePredict(b, 10)
		if e != nil {
			checkRefusal(t, e)
			return
		}
		if len(rows) == 0 || (!batch && len(rows) != 1) {
			t.Fatalf("%d rows (batch %v) without error", len(rows), batch)
		}
		for _, ignore := range []bool{false, true} {
			x, _, e := encodeRows(snap, rows, batch, ignore)
			if e != nil {
				checkRefusal(t, e)
				continue
			}
			checkRows(t, snap, x, len(rows))
		}
	})
}

// FuzzDecodeInvocations: the same for MLflow's scoring protocol.
func FuzzDecodeInvocations(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		snap := fuzzSnapshot(t)
		for _, ignore := range []bool{false, true} {
			x, _, e := decodeInvocations(snap, b, 10, ignore)
			if e != nil {
				checkRefusal(t, e)
				continue
			}
			checkRows(t, snap, x, -1)
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
			x, _, e := decodeCSV(snap, b, 10, ignore)
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
	for _, f := range e.fields {
		if f.Reason == "" || f.Message == "" {
			t.Fatalf("field problem %+v lacks a reason or message", f)
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

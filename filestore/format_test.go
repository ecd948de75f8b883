package filestore

import (
	"fmt"
	"math"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestPyFloat(t *testing.T) {
	// Python's repr(float), which MLflow writes into metrics files.
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{-2, "-2.0"},
		{0.5, "0.5"},
		{0.1, "0.1"},
		{0.0001, "0.0001"},
		{1e-05, "1e-05"},
		{1.5e-07, "1.5e-07"},
		{1e15, "1000000000000000.0"},
		{1e16, "1e+16"},
		{1.2345678901234568e+17, "1.2345678901234568e+17"},
		{1.5e300, "1.5e+300"},
		{0.30000000000000004, "0.30000000000000004"},
		{123.456, "123.456"},
		{math.NaN(), "nan"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
	} {
		if got := pyFloat(tc.v); got != tc.want {
			t.Errorf("pyFloat(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestParseMetricLine(t *testing.T) {
	for _, tc := range []struct {
		line    string
		ts      int64
		v       float64
		step    int64
		wantErr bool
	}{
		{line: "1700000000000 0.5 3", ts: 1700000000000, v: 0.5, step: 3},
		{line: "1700000000000 0.5", ts: 1700000000000, v: 0.5}, // old 2-field lines: step 0
		{line: "1 nan 0", ts: 1, v: math.NaN()},
		{line: "1 inf 0", ts: 1, v: math.Inf(1)},
		{line: "1 -inf 0", ts: 1, v: math.Inf(-1)},
		{line: "1 1e+16 2", ts: 1, v: 1e16, step: 2},
		{line: "1 -Infinity 0", ts: 1, v: math.Inf(-1)},
		{line: "1", wantErr: true},
		{line: "1 2 3 4", wantErr: true},
		{line: "x 2 3", wantErr: true},
		{line: "1 y 3", wantErr: true},
		{line: "1 2 z", wantErr: true},
	} {
		ts, v, step, err := parseMetricLine(tc.line)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err %v, want error %v", tc.line, err, tc.wantErr)
			continue
		}
		if err == nil && (ts != tc.ts || step != tc.step || !(v == tc.v || math.IsNaN(v) && math.IsNaN(tc.v))) {
			t.Errorf("%q = %d %v %d, want %d %v %d", tc.line, ts, v, step, tc.ts, tc.v, tc.step)
		}
	}
}

func TestYAMLStringsReadBack(t *testing.T) {
	// Every string comes back as itself, never as a bool, number or null.
	for _, s := range []string{"", "plain", "yes", "No", "on", "null", "~", "true", "0", "0755", "1e3", "0x1F",
		"1a2b3c4d", "file:///tmp/x", "a: b", "a:", "- x", "#c", "'q'", `"dq"`, "line1\nline2", "tab\there",
		"ünïcödé", "[1]", "{a: 1}", "&anchor", "*ref", "!tag", "%dir", "@at", "`tick", " lead", "trail ", "None", ".inf", "-.inf", ".nan"} {
		doc := yamlMap{"k": s, "m": map[string]string{"sub": s}}.marshal()
		var got struct {
			K string            `yaml:"k"`
			M map[string]string `yaml:"m"`
		}
		if err := yaml.Unmarshal(doc, &got); err != nil {
			t.Errorf("%q: %v\n%s", s, err, doc)
			continue
		}
		if got.K != s || got.M["sub"] != s {
			t.Errorf("%q read back as %q, %q\n%s", s, got.K, got.M["sub"], doc)
		}
	}
}

func TestParseVersionFilter(t *testing.T) {
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	for _, tc := range []struct {
		f, name, run string
		wantErr      bool
	}{
		{f: "", name: "<nil>", run: "<nil>"},
		{f: "name='credit'", name: "credit", run: "<nil>"},
		{f: `name = "credit"`, name: "credit", run: "<nil>"},
		{f: `name='it\'s' and run_id='abc'`, name: "it's", run: "abc"},
		{f: `name='a' AND run_id = 'b'`, name: "a", run: "b"},
		{f: "tags.x='1'", wantErr: true},
		{f: "name LIKE 'c%'", wantErr: true},
		{f: "name='a' or run_id='b'", wantErr: true},
		{f: "name='open", wantErr: true},
		{f: "name=credit", wantErr: true},
	} {
		vf, err := parseVersionFilter(tc.f)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err %v, want error %v", tc.f, err, tc.wantErr)
			continue
		}
		if err == nil && (str(vf.name) != tc.name || str(vf.runID) != tc.run) {
			t.Errorf("%q = name %s run %s, want %s %s", tc.f, str(vf.name), str(vf.runID), tc.name, tc.run)
		}
	}
}

func FuzzParseMetricLine(f *testing.F) {
	for _, s := range []string{"1700000000000 0.5 3", "1 nan", "1 -inf 2", "", "a b c", "1 1e+16 -5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		ts, v, step, err := parseMetricLine(line)
		if err != nil {
			return
		}
		// What parses writes back to a line that parses to the same point.
		ts2, v2, step2, err := parseMetricLine(formatLine(ts, v, step))
		if err != nil || ts2 != ts || step2 != step || !(v2 == v || math.IsNaN(v) && math.IsNaN(v2)) {
			t.Fatalf("%q: round trip gave %d %v %d (%v)", line, ts2, v2, step2, err)
		}
	})
}

func formatLine(ts int64, v float64, step int64) string {
	return fmt.Sprintf("%d %s %d", ts, pyFloat(v), step)
}

func FuzzParseVersionFilter(f *testing.F) {
	for _, s := range []string{"name='credit'", `name="a" and run_id='b'`, `name='it\'s'`, "x", "name=", "name='"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parseVersionFilter(s) // must not panic or hang
	})
}

func FuzzReadMeta(f *testing.F) {
	for _, s := range []string{
		"artifact_uri: file:///x\nexperiment_id: '1'\nrun_id: abc\nstatus: 3\nstart_time: 1\nend_time: null\n",
		"experiment_id: 5\nstatus: 9\n", "status: [1]\n", "{", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var m runMeta
		if yaml.Unmarshal([]byte(doc), &m) == nil {
			m.info() // an unknown status is an error, not a panic
		}
		var v versionMeta
		yaml.Unmarshal([]byte(doc), &v)
	})
}

// FuzzParseModelHistory: a logged model's metric file, as MLflow 3 or this
// package wrote it (or anything else), parses or is refused, without a
// panic; what parses carries the model id and whole runs of fields.
func FuzzParseModelHistory(f *testing.F) {
	for _, s := range []string{
		"1700000000100 0.75 0 0123abc german_credit_test 1a2b3c4d\n",
		"1 0.5 3 run\n2 nan 4 run\n", "1 0.5 3\n", "1 0.5 3 r a\n", "", "\n\n", "x y z w\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		hist, err := parseModelHistory("m-1", "k", content)
		if err != nil {
			return
		}
		for _, m := range hist {
			if m.ModelID != "m-1" || m.RunID == "" || (m.DatasetName == "") != (m.DatasetDigest == "") {
				t.Fatalf("%q: point %+v", content, m)
			}
		}
		if len(latestPerDataset(hist)) == 0 {
			t.Fatalf("%q: %d points, no latest", content, len(hist))
		}
	})
}

func FuzzReadLoggedMeta(f *testing.F) {
	for _, s := range []string{
		"artifact_location: file:///x\nexperiment_id: '1'\nmodel_id: m-1\nstatus: 2\nname: model\n",
		"status: LOGGED_MODEL_READY\n", "status: 9\n", "status: [1]\n", "{", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var m loggedMeta
		if yaml.Unmarshal([]byte(doc), &m) == nil {
			m.status()
			m.yaml().marshal()
		}
	})
}

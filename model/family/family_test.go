package family

import (
	"errors"
	"strings"
	"testing"
)

func TestParams(t *testing.T) {
	var got []string
	set := func(k, v string) error {
		if v == "bad" {
			return errors.New("bad value")
		}
		got = append(got, k+"="+v)
		return nil
	}
	if err := Params(map[string]string{"b": " 2 ", "a": "1"}, []string{"a", "b"}, set); err != nil || strings.Join(got, ",") != "a=1,b=2" {
		t.Fatalf("%v %v", got, err)
	}
	err := Params(map[string]string{"c": "1"}, []string{"a", "b"}, set)
	if !errors.Is(err, ErrParam) || !strings.Contains(err.Error(), `"c"`) || !strings.Contains(err.Error(), "a, b") {
		t.Fatalf("unknown key: %v", err)
	}
	if err := Params(map[string]string{"a": "bad"}, nil, set); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Fatalf("bad value: %v", err)
	}
}

func TestNumbers(t *testing.T) {
	for _, tt := range []struct {
		v  string
		ok bool
	}{{"3", true}, {"0", false}, {"11", false}, {"x", false}, {"3.5", false}} {
		if _, err := Int(tt.v, 1, 10); (err == nil) != tt.ok {
			t.Errorf("Int(%q): %v", tt.v, err)
		}
	}
	for _, tt := range []struct {
		v  string
		ok bool
	}{{"0.5", true}, {"NaN", false}, {"Inf", false}, {"-1", false}, {"2", false}} {
		if _, err := Float(tt.v, 0, 1); (err == nil) != tt.ok {
			t.Errorf("Float(%q): %v", tt.v, err)
		}
	}
	if err := Rows([][]float64{{1, 2}, {1}}, 2); !errors.Is(err, ErrRowLength) || !strings.Contains(err.Error(), "row 1") {
		t.Errorf("Rows: %v", err)
	}
}

// TestUnknownSuggests: a mistyped key gets the nearest known key as a
// suggestion (gbdt's "num_leave" once got none), a prefix entry admits its
// keys, and a key far from every known one gets no guess.
func TestUnknownSuggests(t *testing.T) {
	set := func(string, string) error { return nil }
	for _, tc := range []struct {
		known []string
		key   string
		want  string // "" accepted
	}{
		{[]string{"num_leaves", "num_leaf", "learning_rate"}, "num_leave", "did you mean num_leaves?"},
		{[]string{"num_trees", "max_features"}, "num_tree", "did you mean num_trees? (known: num_trees, max_features)"},
		{[]string{"l2", "max_iter", "tol"}, "maxiter", "did you mean max_iter?"},
		{[]string{"trend", "trend."}, "trend.age", ""},
		{[]string{"trend", "trend."}, "trend.", "unknown"},
		{[]string{"l2", "tol"}, "completely_different", "unknown (known: l2, tol)"},
	} {
		err := Params(map[string]string{tc.key: "1"}, tc.known, set)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.key, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrParam)):
			t.Errorf("%s: %v, want %q", tc.key, err, tc.want)
		}
	}
}

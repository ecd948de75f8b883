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

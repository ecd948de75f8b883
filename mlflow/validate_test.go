package mlflow_test

import (
	"errors"
	"testing"

	"github.com/creditrisk/engine/mlflow"
)

// KeyCases are keys with MLflow's verdict (the Python server's
// _VALID_PARAM_AND_METRIC_NAMES, \w being Unicode letters and numbers, and
// path_not_unique). The local store's tests run the same table, so both
// backends refuse the same keys.
var keyCases = []struct {
	key string
	ok  bool
}{
	{"auc", true},
	{"test_auc", true},
	{"eval/auc-1.0 x:y", true},
	{"größe", true},
	{"x²", true},       // a number (No) is \w in Python; was refused by the local store
	{"٣", true},        // an Arabic-Indic digit
	{"a\u0301", false}, // a combining mark is not \w; was accepted by the REST client
	{"", false},
	{"a\tb", false},
	{"a=b", false},
	{"/abs", false},
	{"../up", false},
	{"..", false},
	{".", false},
	{"a//b", false},
	{"a/./b", false},
	{"a/", false},
	{"./a", false},
}

func TestValidateKey(t *testing.T) {
	for _, tc := range keyCases {
		err := mlflow.ValidateKey("metric", tc.key)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateKey(%q) = %v, want ok=%v", tc.key, err, tc.ok)
		}
		if err != nil && !errors.Is(err, mlflow.ErrInvalidParameter) {
			t.Errorf("ValidateKey(%q): %v does not match ErrInvalidParameter", tc.key, err)
		}
	}
}

func TestValidateAlias(t *testing.T) {
	for _, tc := range []struct {
		alias string
		ok    bool
	}{
		{"champion", true}, {"challenger-2", true}, {"prod_eu", true}, {"vip", true}, {"v1a", true},
		{"", false}, {"latest", false}, {"LATEST", false}, {"v1", false}, {"V23", false},
		{"a b", false}, {"a/b", false}, {"a@b", false},
	} {
		err := mlflow.ValidateAlias(tc.alias)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateAlias(%q) = %v, want ok=%v", tc.alias, err, tc.ok)
		}
		if err != nil && !errors.Is(err, mlflow.ErrInvalidParameter) {
			t.Errorf("ValidateAlias(%q): %v does not match ErrInvalidParameter", tc.alias, err)
		}
	}
}

func TestCanonicalStage(t *testing.T) {
	for in, want := range map[string]string{"production": "Production", "STAGING": "Staging", "none": "None", "Archived": "Archived"} {
		if got, err := mlflow.CanonicalStage(in); err != nil || got != want {
			t.Errorf("CanonicalStage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := mlflow.CanonicalStage("prod"); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("CanonicalStage(prod) = %v, want ErrInvalidParameter", err)
	}
}

func TestValidateParamTagLimits(t *testing.T) {
	long := func(n int) string {
		b := make([]rune, n)
		for i := range b {
			b[i] = 'é'
		}
		return string(b)
	}
	if err := mlflow.ValidateParam("p", long(6000)); err != nil {
		t.Errorf("6000-character param: %v", err)
	}
	if err := mlflow.ValidateParam("p", long(6001)); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("6001-character param: %v", err)
	}
	if err := mlflow.ValidateTag("t", long(5001)); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("5001-character tag: %v", err)
	}
}

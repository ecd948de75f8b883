package gbdt

import (
	"errors"
	"strings"
	"testing"
)

// Every listed key is one Set knows (a bad value is refused for the
// value, never as an unknown parameter), and the list misses none: an
// unlisted key is unknown.
func TestParamKeysComplete(t *testing.T) {
	for _, k := range ParamKeys() {
		p := DefaultParams()
		if err := p.Set(k, "\x00"); err != nil && strings.Contains(err.Error(), "unknown parameter") {
			t.Errorf("%s is listed but unknown to Set", k)
		}
	}
	p := DefaultParams()
	if err := p.Set("num_leave", "3"); !errors.Is(err, ErrParam) || !strings.Contains(err.Error(), "unknown parameter") {
		t.Errorf("num_leave: %v", err)
	}
}

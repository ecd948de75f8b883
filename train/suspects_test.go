package train_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/train"
)

// TestSuspects: Taiwan's ID column (1..30000 in row order) is an identifier;
// a copy of the label is a leak; German credit's real features are neither.
// Taiwan's ID was once used as a feature without a word.
func TestSuspects(t *testing.T) {
	if got := train.Suspects(testkit.German(t)); len(got) != 0 {
		t.Errorf("German credit: %v", got)
	}
	tw, err := data.LoadFile(testkit.Path(t, "taiwan_default.csv"), data.Options{Label: "default payment next month", Positive: "1"})
	if err != nil {
		t.Fatal(err)
	}
	got := train.Suspects(tw)
	if len(got) != 1 || got[0].Column != "ID" || !strings.Contains(got[0].Reason, "identifier") {
		t.Errorf("Taiwan: %v, want ID alone", got)
	}

	var b strings.Builder
	b.WriteString("id,code,leak,noise,y\n")
	for i := range 200 {
		y := []string{"good", "bad"}[i%3/2]
		leak := 10.0
		if y == "bad" {
			leak = 20
		}
		fmt.Fprintf(&b, "%d,C%d,%g,%d,%s\n", 1000-i, i, leak+float64(i%7)/10, (i*7919)%13, y)
	}
	tab, err := data.Load(strings.NewReader(b.String()), data.Options{Name: "t.csv", Label: "y", Positive: "bad", Types: map[string]data.Kind{"code": data.Categorical}})
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, s := range train.Suspects(tab) {
		cols = append(cols, s.Column)
	}
	if strings.Join(cols, ",") != "id,code,leak" {
		t.Errorf("suspects %v, want id, code and leak", train.Suspects(tab))
	}
}

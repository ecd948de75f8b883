package model

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/reasons"
	"github.com/creditrisk/engine/scorecard"
)

// TestExplainerScorecard: a scorecard's reasons are its points lost
// against each feature's best bin, with the default statements, and never
// a protected feature (German's personal_status_and_sex and age_in_years
// are in the model here, so they do lose points on some rows).
func TestExplainerScorecard(t *testing.T) {
	tab := testkit.German(t)
	m, err := Train(context.Background(), FamilyScorecard, tab, nil, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	set := reasons.Default()
	e := NewExplainer(m, set, data.NewProfile(tab))
	sc := m.(*scorecard.Model)
	protectedLost := 0
	for i, row := range testkit.AllRows(tab)[:200] {
		want, err := sc.Reasons(row)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Reasons(row, 0)
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for _, w := range want {
			if set.Protected(w.Feature) {
				protectedLost++
				continue
			}
			if k >= len(got) {
				t.Fatalf("row %d: %d reasons, want more (%v)", i, len(got), want)
			}
			g := got[k]
			text, _ := set.Statement(w.Feature, w.Direction)
			if g.Feature != w.Feature || g.Amount != float64(w.Lost) || g.Unit != UnitPoints || g.Statement != text || g.Bin != w.Bin {
				t.Fatalf("row %d reason %d: %+v, want %+v (%q)", i, k, g, w, text)
			}
			k++
		}
		if k != len(got) {
			t.Fatalf("row %d: %d reasons, want %d", i, len(got), k)
		}
		if top, _ := e.Reasons(row, 2); len(top) != min(2, len(got)) {
			t.Fatalf("row %d: top 2 gives %d reasons", i, len(top))
		}
	}
	if protectedLost == 0 {
		t.Fatal("no row lost points on a protected feature: the test proves nothing")
	}
}

// TestExplainerContributions: a gbdt model's reasons are its positive
// TreeSHAP contributions, largest first, placed against the training
// median; a missing value is "missing".
func TestExplainerContributions(t *testing.T) {
	tab := testkit.German(t)
	m := trainedGBDT(t)
	prof := data.NewProfile(tab)
	e := NewExplainer(m, reasons.Default(), prof)
	h, _ := prof.Feature("duration_in_month")
	med := histMedian(h)
	if med != 18 { // German credit's median loan term
		t.Fatalf("median duration %v, want 18", med)
	}
	dur := -1
	for j, f := range m.Schema().Features {
		if f.Name == "duration_in_month" {
			dur = j
		}
	}
	seenHigh := false
	for i, row := range testkit.AllRows(tab)[:300] {
		if i%10 == 0 {
			row = append([]float64(nil), row...)
			row[dur] = math.NaN()
		}
		c, _, err := m.Explain(row)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Reasons(row, 0)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := e.ReasonsFrom(row, c, 0); err != nil || !slices.Equal(again, got) {
			t.Fatalf("row %d: reasons from the contributions %v, %v; want %v", i, again, err, got)
		}
		positive := 0
		for j, v := range c {
			if v > 0 && !reasons.Default().Protected(m.Schema().Features[j].Name) {
				positive++
			}
		}
		if len(got) != positive {
			t.Fatalf("row %d: %d reasons for %d positive unprotected contributions", i, len(got), positive)
		}
		for k, r := range got {
			if k > 0 && r.Amount > got[k-1].Amount || r.Unit != UnitLogOdds || r.Statement == "" {
				t.Fatalf("row %d: reasons %+v", i, got)
			}
			if r.Feature != "duration_in_month" {
				continue
			}
			want := reasons.DirectionOf(row[dur], med)
			if r.Direction != want {
				t.Fatalf("row %d: duration %v has direction %s, want %s", i, row[dur], r.Direction, want)
			}
			if r.Direction == reasons.High {
				seenHigh = true
				if r.Statement != "Requested loan term is too long" {
					t.Fatalf("row %d: statement %q", i, r.Statement)
				}
			}
		}
	}
	if !seenHigh {
		t.Fatal("no long loan term was cited: the test proves nothing")
	}
}

func TestExplainerNoExplain(t *testing.T) {
	tab := testkit.German(t)
	m, err := Train(context.Background(), FamilyForest, tab, nil, TrainOptions{Params: map[string]string{"num_trees": "3"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewExplainer(m, nil, nil).Reasons(testkit.AllRows(tab)[0], 3); !errors.Is(err, ErrNoExplain) {
		t.Fatalf("forest: %v, want ErrNoExplain", err)
	}
}

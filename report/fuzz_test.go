package report

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseProtected: any --protected value is parsed or refused with an
// error, and what parses prints back to the same value.
func FuzzParseProtected(f *testing.F) {
	for _, s := range []string{"age_in_years:25,35,50", "personal_status_and_sex", ":", "a:", "a:1,1", "a:nan", "a:1e400", "x:-3,2.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProtected(s)
		if err != nil {
			return
		}
		q, err := ParseProtected(p.String())
		if err != nil || q.String() != p.String() {
			t.Fatalf("%q parses to %q, which reads back as %q, %v", s, p.String(), q.String(), err)
		}
	})
}

// FuzzReadFairness: a run's fairness.json comes from outside; reading it
// never panics, and what is accepted gives a lowest ratio in [0, 1].
func FuzzReadFairness(f *testing.F) {
	f.Add([]byte(`{"cutoff":0.5,"characteristics":[{"column":"sex","feature":false,"report":{"cutoff":0.5,"groups":[{"group":"a","rows":3,"bads":1,"approved":2,"approval_rate":0.66,"adverse_impact_ratio":1,"auc":null,"tpr":1}],"most_favoured":"a","least_favoured":"a","min_adverse_impact_ratio":1,"tpr_gap":0}}]}`))
	f.Add([]byte(`{"characteristics":[{"column":"x","report":null}]}`))
	f.Add([]byte(`{"characteristics":[{"column":"x","report":{"groups":[{"approval_rate":2}]}}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "fairness.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		fr, err := ReadFairness(path)
		if err != nil {
			return
		}
		if r, _, _, ok := fr.MinAdverseImpactRatio(); ok && !unit(r) {
			t.Fatalf("lowest ratio %v", r)
		}
	})
}

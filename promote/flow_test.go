package promote

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
)

// TestForce: a failing candidate goes through with --force and a reason,
// and the reason and the failed gates are recorded; without a reason it is
// refused before anything is read.
func TestForce(t *testing.T) {
	f := newFixture(t, testkit.TrackingURI(t))
	ctx := context.Background()
	v1, v2 := f.register(strong), f.register(weak)
	if _, err := Promote(ctx, f.c, f.opts(v1, DefaultPolicy())); err != nil {
		t.Fatal(err)
	}
	o := f.opts(v2, DefaultPolicy())
	o.Force = true
	if _, err := Promote(ctx, f.c, o); err == nil || errors.Is(err, ErrGateFailed) {
		t.Fatalf("force without reason: %v", err)
	}
	o.Reason = "incident 42: champion scores drift, stump as a stop-gap"
	d, err := Promote(ctx, f.c, o)
	if err != nil {
		t.Fatalf("forced promotion: %v", err)
	}
	if d.Passed || !d.Forced || !d.Applied {
		t.Fatalf("decision %+v", d)
	}
	if got := f.alias(DefaultAlias); got != v2 {
		t.Fatalf("champion %q, want %s", got, v2)
	}
	mv := f.version(v2)
	for k, want := range map[string]string{TagForced: "true", TagReason: o.Reason, TagPreviousChampion: v1} {
		if got, _ := mv.Tag(k); got != want {
			t.Errorf("tag %s = %q, want %q", k, got, want)
		}
	}
	run, err := f.c.GetRun(ctx, d.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := run.Tag("reason"); r != o.Reason {
		t.Errorf("run reason %q", r)
	}
	if dec, _ := run.Tag("decision"); dec != "promote: forced past failed gates" {
		t.Errorf("run decision %q", dec)
	}
	files := listRun(t, f.c, d.RunID)
	if !files[ROCFile] || !files[DecisionFile] {
		t.Errorf("promotion run artifacts %v", files)
	}
}

// TestRollbackChain promotes v1, v2, v3 and rolls back twice, on both
// servers; a third rollback has nowhere to go, and --to jumps.
func TestRollbackChain(t *testing.T) {
	for _, srv := range servers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			f := newFixture(t, srv.URI)
			ctx := context.Background()
			vs := []string{f.register(strong), f.register(mid), f.register(strong)}
			for _, v := range vs {
				if _, err := Promote(ctx, f.c, f.opts(v, loose())); err != nil {
					t.Fatalf("promote v%s: %v", v, err)
				}
			}
			if h, _ := readHistory(ctx, f.c, f.name, DefaultAlias); !slices.Equal(h, vs) {
				t.Fatalf("history %v, want %v", h, vs)
			}
			ro := RollbackOptions{Name: f.name, User: "promote-test", Reason: "bad night"}
			for i, want := range []string{vs[1], vs[0]} {
				r, err := Rollback(ctx, f.c, ro)
				if err != nil {
					t.Fatalf("rollback %d: %v", i+1, err)
				}
				if r.To != want || f.alias(DefaultAlias) != want {
					t.Fatalf("rollback %d went to %s (alias %s), want %s", i+1, r.To, f.alias(DefaultAlias), want)
				}
				mv := f.version(want)
				if k, _ := mv.Tag(TagKind); k != "rollback" {
					t.Errorf("v%s kind %q", want, k)
				}
				if p, _ := mv.Tag(TagPreviousChampion); p != r.From {
					t.Errorf("v%s previous_champion %q, want %s", want, p, r.From)
				}
				if why, _ := mv.Tag(TagReason); why != "bad night" {
					t.Errorf("v%s reason %q", want, why)
				}
			}
			if _, err := Rollback(ctx, f.c, ro); !errors.Is(err, ErrNoHistory) {
				t.Fatalf("third rollback: %v, want ErrNoHistory", err)
			}
			ro.To = vs[2]
			if r, err := Rollback(ctx, f.c, ro); err != nil || f.alias(DefaultAlias) != vs[2] || !slices.Equal(r.History, []string{vs[0], vs[2]}) {
				t.Fatalf("rollback --to %s: %+v, %v", vs[2], r, err)
			}
			// A promotion after the jump continues the history.
			v4 := f.register(mid)
			if _, err := Promote(ctx, f.c, f.opts(v4, loose())); err != nil {
				t.Fatal(err)
			}
			ro.To = ""
			if r, err := Rollback(ctx, f.c, ro); err != nil || r.To != vs[2] {
				t.Fatalf("rollback after promotion: %+v, %v", r, err)
			}
		})
	}
}

// TestRollbackWithoutHistory follows previous_champion once when the
// history tag is empty (an alias history from before this tool; the client
// has no call to delete a registered-model tag).
func TestRollbackWithoutHistory(t *testing.T) {
	f := newFixture(t, testkit.TrackingURI(t))
	ctx := context.Background()
	v1, v2 := f.register(strong), f.register(strong)
	for _, v := range []string{v1, v2} {
		if _, err := Promote(ctx, f.c, f.opts(v, loose())); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.c.SetRegisteredModelTag(ctx, f.name, HistoryTag(DefaultAlias), ""); err != nil {
		t.Fatal(err)
	}
	r, err := Rollback(ctx, f.c, RollbackOptions{Name: f.name})
	if err != nil || r.To != v1 {
		t.Fatalf("rollback: %+v, %v", r, err)
	}
	if _, err := Rollback(ctx, f.c, RollbackOptions{Name: f.name}); !errors.Is(err, ErrNoHistory) {
		t.Fatalf("second rollback: %v", err)
	}
}

// TestStageMode: with a stage the promoted version is transitioned and
// the stage's previous holder archived; on 2.9.2, where teams still use
// stages, and on 3.x, where the endpoints remain.
func TestStageMode(t *testing.T) {
	for _, srv := range servers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			f := newFixture(t, srv.URI)
			ctx := context.Background()
			v1, v2 := f.register(strong), f.register(strong)
			for _, v := range []string{v1, v2} {
				o := f.opts(v, loose())
				o.Stage = "production"
				if _, err := Promote(ctx, f.c, o); err != nil {
					t.Fatalf("promote v%s: %v", v, err)
				}
			}
			if s := f.version(v2).CurrentStage; s != "Production" {
				t.Errorf("v%s stage %q", v2, s)
			}
			if s := f.version(v1).CurrentStage; s != "Archived" {
				t.Errorf("v%s stage %q, want Archived", v1, s)
			}
			latest, err := f.c.GetLatestVersions(ctx, f.name, "Production")
			if err != nil || len(latest) != 1 || latest[0].Version != v2 {
				t.Errorf("latest Production: %+v, %v", latest, err)
			}
			if _, err := Rollback(ctx, f.c, RollbackOptions{Name: f.name, Stage: "Production"}); err != nil {
				t.Fatal(err)
			}
			if s := f.version(v1).CurrentStage; s != "Production" {
				t.Errorf("after rollback v%s stage %q", v1, s)
			}
			if s := f.version(v2).CurrentStage; s != "Archived" {
				t.Errorf("after rollback v%s stage %q", v2, s)
			}
		})
	}
}

// TestRace moves the alias behind the promotion's back, just before and
// just after its write: both are refused with ErrRaced and the candidate is
// not tagged.
func TestRace(t *testing.T) {
	f := newFixture(t, testkit.TrackingURI(t))
	ctx := context.Background()
	v1, v2, v3 := f.register(strong), f.register(strong), f.register(strong)
	if _, err := Promote(ctx, f.c, f.opts(v1, loose())); err != nil {
		t.Fatal(err)
	}
	other := func(ctx context.Context) error { return f.c.SetRegisteredModelAlias(ctx, f.name, DefaultAlias, v3) }
	for _, step := range []string{"before the write", "after the write"} {
		t.Run(step, func(t *testing.T) {
			if err := f.c.SetRegisteredModelAlias(ctx, f.name, DefaultAlias, v1); err != nil {
				t.Fatal(err)
			}
			o := f.opts(v2, loose())
			if step == "before the write" {
				o.beforeWrite = other
			} else {
				o.afterWrite = other
			}
			d, err := Promote(ctx, f.c, o)
			var re *RaceError
			if !errors.As(err, &re) || !errors.Is(err, ErrRaced) || re.Step != step || re.Actual != v3 {
				t.Fatalf("err = %v, want a race %s seeing v%s", err, step, v3)
			}
			if _, ok := f.version(v2).Tag(TagPromotedAt); ok {
				t.Errorf("raced candidate v%s was tagged", v2)
			}
			if got := f.alias(DefaultAlias); got != v3 {
				t.Errorf("alias %s, want the other writer's v%s", got, v3)
			}
			run, err := f.c.GetRun(ctx, d.RunID)
			if err != nil {
				t.Fatal(err)
			}
			if run.Info.Status != mlflow.RunFailed {
				t.Errorf("promotion run of a raced promotion is %s", run.Info.Status)
			}
		})
	}
}

// TestLateRace: another promotion lands after this one's post-write check,
// during its recording: the history check or the final read catches it.
func TestLateRace(t *testing.T) {
	f := newFixture(t, testkit.TrackingURI(t))
	ctx := context.Background()
	v1, v2, v3 := f.register(strong), f.register(strong), f.register(strong)
	if _, err := Promote(ctx, f.c, f.opts(v1, loose())); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		history bool // the other promotion also recorded its history
		step    string
	}{
		{"other promotion recorded", true, "while recording (the history shows another promotion)"},
		{"alias moved only", false, "after recording"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.c.SetRegisteredModelAlias(ctx, f.name, DefaultAlias, v1); err != nil {
				t.Fatal(err)
			}
			if err := writeHistory(ctx, f.c, f.name, DefaultAlias, []string{v1}); err != nil {
				t.Fatal(err)
			}
			o := f.opts(v2, loose())
			o.afterTags = func(ctx context.Context) error {
				if tc.history {
					if err := writeHistory(ctx, f.c, f.name, DefaultAlias, []string{v1, v3}); err != nil {
						return err
					}
				}
				return f.c.SetRegisteredModelAlias(ctx, f.name, DefaultAlias, v3)
			}
			_, err := Promote(ctx, f.c, o)
			var re *RaceError
			if !errors.As(err, &re) || re.Step != tc.step || re.Actual != v3 {
				t.Fatalf("err = %v, want a race %q seeing v%s", err, tc.step, v3)
			}
			// Caught before recording, the undone promotion stays out of
			// the history; caught after, it is in it (it did hold the alias).
			if h, _ := readHistory(ctx, f.c, f.name, DefaultAlias); slices.Contains(h, v2) != !tc.history {
				t.Errorf("history %v", h)
			}
		})
	}
}

// TestConcurrentPromotions starts two promotions of different versions from
// the same champion at once. Whatever the interleaving, a promotion that
// succeeded holds the alias, and a failed one failed as a race.
func TestConcurrentPromotions(t *testing.T) {
	f := newFixture(t, testkit.TrackingURI(t))
	ctx := context.Background()
	v1, v2, v3 := f.register(strong), f.register(strong), f.register(mid)
	if _, err := Promote(ctx, f.c, f.opts(v1, loose())); err != nil {
		t.Fatal(err)
	}
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, v := range []string{v2, v3} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := Promote(ctx, f.c, f.opts(v, loose()))
			mu.Lock()
			errs[v] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	final := f.alias(DefaultAlias)
	if final != v2 && final != v3 {
		t.Fatalf("alias ends on v%s; results %v", final, errs)
	}
	// Both may fail as races (each saw the other's write, see the package
	// documentation); one that reported success must hold the alias.
	for v, err := range errs {
		if err == nil && v != final {
			t.Errorf("v%s was promoted but the alias ends on v%s", v, final)
		}
		if err != nil && !errors.Is(err, ErrRaced) {
			t.Errorf("v%s: %v, want nil or ErrRaced", v, err)
		}
	}
	t.Logf("final @%s = v%s; results %v", DefaultAlias, final, errs)
}

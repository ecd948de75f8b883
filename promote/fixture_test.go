package promote

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/promote/promotetest"
	"github.com/creditrisk/engine/tracking"
)

var (
	strong = promotetest.Strong
	mid    = promotetest.Mid
	weak   = promotetest.Weak
	narrow = promotetest.Narrow
)

func fullHoldout(t *testing.T) string { return promotetest.FullHoldout(t) }

func newClient(t *testing.T, uri string) tracking.Backend {
	t.Helper()
	b, err := tracking.Open(tracking.Config{URI: uri, S3: s3.EnvConfig(os.Getenv),
		Client: []mlflow.Option{mlflow.WithRetries(2, 100*time.Millisecond, 50*time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixture is a registered model of the test, deleted afterwards.
type fixture struct {
	t    *testing.T
	c    tracking.Backend
	name string
}

func newFixture(t *testing.T, uri string) *fixture {
	t.Helper()
	c := newClient(t, uri)
	return &fixture{t: t, c: c, name: promotetest.NewModel(t, c)}
}

// register trains, logs and registers a version by the recipe.
func (f *fixture) register(r promotetest.Recipe) string {
	f.t.Helper()
	return promotetest.Register(f.t, f.c, f.name, "promote-test-runs", r)
}

// alias returns the version the alias names, "" when unset.
func (f *fixture) alias(alias string) string {
	f.t.Helper()
	mv, err := aliasVersion(context.Background(), f.c, f.name, alias)
	if err != nil {
		f.t.Fatal(err)
	}
	return versionOf(mv)
}

func (f *fixture) version(v string) *mlflow.ModelVersion {
	f.t.Helper()
	mv, err := f.c.GetModelVersion(context.Background(), f.name, v)
	if err != nil {
		f.t.Fatal(err)
	}
	return mv
}

// opts are promotion options for this fixture's model with a temporary
// promotions experiment. The fixture's logistic versions have no
// python_function flavor: they pass the pyfunc gate as allowed
// (TestPyfuncGate checks the refusal).
func (f *fixture) opts(version string, p Policy) Options {
	return Options{Name: f.name, Version: version, Policy: p, User: "promote-test", Experiment: "promote-test-promotions", WorkDir: f.t.TempDir(), AllowNoPyfunc: true}
}

// loose never fails on the comparison gates.
func loose() Policy {
	return Policy{MinAUC: 0, MaxBrier: 1, MaxECE: 1, AUCMargin: -1, DeLongP: 0, MaxPSI: 100, GatePSI: true}
}

// servers are the MLflow servers to run a test against.
func servers(t *testing.T) []testkit.Server { return testkit.Servers(t) }

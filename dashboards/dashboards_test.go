package dashboards_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/creditrisk/engine/dashboards"
)

const dir = "../configs/grafana/dashboards"

// TestCommittedUpToDate fails when the committed JSON is not what the
// builders produce: run `go generate ./dashboards` and commit the result.
func TestCommittedUpToDate(t *testing.T) {
	files, err := dashboards.Files()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var committed []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			committed = append(committed, e.Name())
		}
	}
	var generated []string
	for name, want := range files {
		generated = append(generated, name)
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%v (run go generate ./dashboards)", err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s differs from the generator (-generated +committed); run go generate ./dashboards:\n%s", name, diff)
		}
	}
	slices.Sort(committed)
	slices.Sort(generated)
	if !slices.Equal(committed, generated) {
		t.Errorf("committed dashboards %v, generated %v: remove stale files", committed, generated)
	}
}

// TestReadBack decodes the committed file with the SDK's own types, as
// Grafana-facing tools would, and checks what the provisioning relies on.
func TestReadBack(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	data, err := os.ReadFile(filepath.Join(dir, "pipeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard.Dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("decode pipeline.json: %v", err)
	}
	if d.Uid == nil || *d.Uid != "pipeline" {
		t.Errorf("uid = %v, want pipeline", d.Uid)
	}
	ids := map[uint32]bool{}
	for i, p := range d.Panels {
		var id uint32
		switch {
		case p.Panel != nil && p.Panel.Id != nil:
			id = *p.Panel.Id
			if p.Panel.Datasource == nil || p.Panel.Datasource.Uid == nil || *p.Panel.Datasource.Uid != dashboards.DatasourceUID {
				t.Errorf("panel %d: datasource is not uid %q", i, dashboards.DatasourceUID)
			}
		case p.RowPanel != nil:
			id = p.RowPanel.Id
		default:
			t.Errorf("panel %d has no id", i)
			continue
		}
		if id == 0 || ids[id] {
			t.Errorf("panel %d: id %d is zero or repeated", i, id)
		}
		ids[id] = true
	}
}

func TestQueries(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(dir, "pipeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	qs, err := dashboards.Queries(data)
	if err != nil {
		t.Fatal(err)
	}
	// The panels the operations issue asks for, each with a query on the
	// metric it shows.
	want := map[string]string{
		"Request rate by endpoint":            "api_requests_total",
		"Error ratio (scoring endpoints)":     "api_requests_total",
		"Latency p50 / p95 / p99 by endpoint": "api_request_latency_seconds_bucket",
		"Decisions":                           "model_decisions_total",
		"Score distribution":                  "model_probability_of_default_bucket",
		"Model version over time":             "model_info",
		"Reloads by result":                   "model_reloads_total",
		"Feature PSI":                         "model_feature_psi",
		"Goroutines":                          "go_goroutines",
	}
	for panel, metric := range want {
		found := false
		for _, q := range qs {
			if q.Panel == panel && strings.Contains(q.Expr, metric) {
				found = true
			}
		}
		if !found {
			t.Errorf("no panel %q querying %s", panel, metric)
		}
	}
	for _, tt := range []struct {
		name, in, err string
	}{
		{"not json", "{", "decode dashboard"},
		{"empty expr", `{"panels":[{"title":"x","targets":[{"refId":"A"}]}]}`, `panel "x" target A: no expr`},
		{"nested empty expr", `{"panels":[{"title":"r","panels":[{"title":"y","targets":[{"refId":"B","expr":""}]}]}]}`, `panel "y" target B`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dashboards.Queries([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

package mlsync

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
)

func TestWriteText(t *testing.T) {
	rep := &Report{
		Source: "/home/u/mlruns", Target: "http://127.0.0.1:5000",
		Experiments: []ExperimentReport{{Name: "credit-risk", LocalID: "4821", RemoteID: "7", Action: Created}},
		Runs: []RunReport{
			{LocalID: "aa11", RemoteID: "bb22", Experiment: "credit-risk", Name: "bold-fox-1", Action: Created,
				Params: 42, Tags: 5, MetricPoints: 360, Inputs: 1, Artifacts: 21, ArtifactBytes: 537427},
			{LocalID: "cc33", RemoteID: "dd44", Experiment: "credit-risk", Name: "calm-owl-2", Action: Skipped, Reason: "already on the server"},
			{LocalID: "ee55", Experiment: "credit-risk", Action: Skipped, Reason: "still RUNNING locally"},
		},
		Versions:    []VersionReport{{Model: "credit", LocalVersion: "1", RemoteVersion: "3", Action: Created}},
		Aliases:     []AliasReport{{Model: "credit", Alias: "champion", LocalVersion: "1", RemoteVersion: "3", Action: Set}},
		MappingFile: "/home/u/mlruns/.sync-127.0.0.1_5000.json",
	}
	rep.total()
	for _, dry := range []bool{false, true} {
		rep.DryRun = dry
		var b bytes.Buffer
		if err := rep.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		name := "report.golden"
		if dry {
			name = "report-dry-run.golden"
		}
		path := filepath.Join("testdata", name)
		if testkit.Update() {
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs:\n%s", path, b.String())
		}
	}
}

package mlsync

import (
	"fmt"
	"io"
)

// Action says what a sync did (or, in a dry run, would do) with one object.
type Action string

// Actions of a sync.
const (
	Created   Action = "created"   // new on the server
	Completed Action = "completed" // a run a failed sync left incomplete, finished
	Set       Action = "set"       // an alias pointed at the synced version
	Skipped   Action = "skipped"   // already on the server, or not copyable (see Reason)
)

// Report is what a sync copied and skipped.
type Report struct {
	Source      string             `json:"source"` // the local store's root
	Target      string             `json:"target"` // the tracking server
	DryRun      bool               `json:"dry_run"`
	MappingFile string             `json:"mapping_file,omitempty"`
	Experiments []ExperimentReport `json:"experiments"`
	Runs        []RunReport        `json:"runs"`
	Versions    []VersionReport    `json:"versions"`
	Aliases     []AliasReport      `json:"aliases"`
	Totals      Totals             `json:"totals"`
}

// ExperimentReport is one local experiment and its server counterpart.
type ExperimentReport struct {
	Name     string `json:"name"`
	LocalID  string `json:"local_id"`
	RemoteID string `json:"remote_id,omitempty"` // empty in a dry run when it would be created
	Action   Action `json:"action"`
}

// RunReport is one local run. The counts are what this sync sent.
type RunReport struct {
	LocalID       string `json:"local_id"`
	RemoteID      string `json:"remote_id,omitempty"`
	Experiment    string `json:"experiment"`
	Name          string `json:"name,omitempty"`
	Action        Action `json:"action"`
	Reason        string `json:"reason,omitempty"`
	Params        int    `json:"params"`
	Tags          int    `json:"tags"`
	MetricPoints  int    `json:"metric_points"`
	Inputs        int    `json:"inputs"`
	Artifacts     int    `json:"artifacts"`
	ArtifactBytes int64  `json:"artifact_bytes"`
	// LoggedModels are the run's MLflow 3 logged models copied (their
	// files count in Artifacts).
	LoggedModels int `json:"logged_models"`
}

// VersionReport is one local model version.
type VersionReport struct {
	Model         string `json:"model"`
	LocalVersion  string `json:"local_version"`
	RemoteVersion string `json:"remote_version,omitempty"`
	Action        Action `json:"action"`
	Reason        string `json:"reason,omitempty"`
}

// AliasReport is one local alias.
type AliasReport struct {
	Model         string `json:"model"`
	Alias         string `json:"alias"`
	LocalVersion  string `json:"local_version"`
	RemoteVersion string `json:"remote_version,omitempty"`
	Action        Action `json:"action"`
	Reason        string `json:"reason,omitempty"`
}

// Totals sum up a report.
type Totals struct {
	RunsCopied      int   `json:"runs_copied"` // created or completed
	RunsSkipped     int   `json:"runs_skipped"`
	Params          int   `json:"params"`
	Tags            int   `json:"tags"`
	MetricPoints    int   `json:"metric_points"`
	Inputs          int   `json:"inputs"`
	Artifacts       int   `json:"artifacts"`
	ArtifactBytes   int64 `json:"artifact_bytes"`
	LoggedModels    int   `json:"logged_models"`
	VersionsCopied  int   `json:"versions_copied"`
	VersionsSkipped int   `json:"versions_skipped"`
	AliasesSet      int   `json:"aliases_set"`
	AliasesSkipped  int   `json:"aliases_skipped"`
}

func (r *Report) total() {
	t := Totals{}
	for _, x := range r.Runs {
		if x.Action == Skipped {
			t.RunsSkipped++
		} else {
			t.RunsCopied++
		}
		t.Params += x.Params
		t.Tags += x.Tags
		t.MetricPoints += x.MetricPoints
		t.Inputs += x.Inputs
		t.Artifacts += x.Artifacts
		t.ArtifactBytes += x.ArtifactBytes
		t.LoggedModels += x.LoggedModels
	}
	for _, x := range r.Versions {
		if x.Action == Skipped {
			t.VersionsSkipped++
		} else {
			t.VersionsCopied++
		}
	}
	for _, x := range r.Aliases {
		if x.Action == Skipped {
			t.AliasesSkipped++
		} else {
			t.AliasesSet++
		}
	}
	r.Totals = t
}

// WriteText writes the report for people: one line per object, then the
// totals.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	verb := "synced"
	if r.DryRun {
		verb = "would sync (dry run)"
	}
	ew.printf("%s %s -> %s\n", verb, r.Source, r.Target)
	for _, e := range r.Experiments {
		ew.printf("experiment %-9s %q (local %s, remote %s)\n", e.Action, e.Name, e.LocalID, orDash(e.RemoteID))
	}
	for _, x := range r.Runs {
		ew.printf("run        %-9s %s -> %s (%s/%s)", x.Action, x.LocalID, orDash(x.RemoteID), x.Experiment, x.Name)
		if x.Action != Skipped {
			ew.printf(": %d params, %d tags, %d metric points, %d inputs, %d artifacts (%d bytes)",
				x.Params, x.Tags, x.MetricPoints, x.Inputs, x.Artifacts, x.ArtifactBytes)
			if x.LoggedModels > 0 {
				ew.printf(", %d logged models", x.LoggedModels)
			}
		}
		if x.Reason != "" {
			ew.printf(": %s", x.Reason)
		}
		ew.printf("\n")
	}
	for _, v := range r.Versions {
		ew.printf("version    %-9s %s/%s -> %s", v.Action, v.Model, v.LocalVersion, orDash(v.RemoteVersion))
		if v.Reason != "" {
			ew.printf(": %s", v.Reason)
		}
		ew.printf("\n")
	}
	for _, a := range r.Aliases {
		ew.printf("alias      %-9s %s@%s -> version %s (local %s)", a.Action, a.Model, a.Alias, orDash(a.RemoteVersion), a.LocalVersion)
		if a.Reason != "" {
			ew.printf(": %s", a.Reason)
		}
		ew.printf("\n")
	}
	t := r.Totals
	ew.printf("runs: %d copied, %d skipped; %d params, %d tags, %d metric points, %d inputs, %d artifacts (%d bytes); versions: %d copied, %d skipped; aliases: %d set, %d skipped\n",
		t.RunsCopied, t.RunsSkipped, t.Params, t.Tags, t.MetricPoints, t.Inputs, t.Artifacts, t.ArtifactBytes,
		t.VersionsCopied, t.VersionsSkipped, t.AliasesSet, t.AliasesSkipped)
	if t.LoggedModels > 0 {
		ew.printf("logged models: %d copied\n", t.LoggedModels)
	}
	if r.MappingFile != "" {
		ew.printf("mapping of local to remote ids: %s\n", r.MappingFile)
	}
	return ew.err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// errWriter keeps the first write error so the report's lines need no
// checks each.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

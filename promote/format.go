package promote

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// WriteDecision prints a decision for people: what was compared, the gate
// table and what happened.
func WriteDecision(w io.Writer, d *Decision) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	champ := "none"
	if d.Champion != nil {
		champ = "version " + d.Champion.Version
	}
	fmt.Fprintf(tw, "model\t%s\n", d.Name)
	fmt.Fprintf(tw, "candidate\tversion %s (run %s)\n", d.Candidate.Version, d.Candidate.RunID)
	fmt.Fprintf(tw, "champion @%s\t%s\n", d.Alias, champ)
	fmt.Fprintf(tw, "test metrics\t%s\n", d.TestSource)
	if d.Holdout != "" {
		fmt.Fprintf(tw, "holdout\t%s (%d rows", d.Holdout, d.HoldoutRows)
		if d.Label != "" {
			fmt.Fprintf(tw, "; default where %q is %q", d.Label, d.Positive)
		}
		fmt.Fprintln(tw, ")")
	}
	if in := d.Integrity; in != nil {
		fmt.Fprintf(tw, "files\tdigest %s, recorded at %s", in.Digest, in.RecordedAt)
		if in.KeyID != "" {
			fmt.Fprintf(tw, "; signed with key %s (%s)", in.KeyID, in.Manifest)
		}
		fmt.Fprintln(tw)
	}
	if d.CandidateHoldout != nil {
		fmt.Fprintf(tw, "holdout AUC\tcandidate %.4f", d.CandidateHoldout["auc"])
		if d.ChampionHoldout != nil {
			fmt.Fprintf(tw, ", champion %.4f", d.ChampionHoldout["auc"])
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	WriteGates(tw, d.Gates)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	switch {
	case d.Applied:
		fmt.Fprintf(w, "promoted: %s@%s -> version %s", d.Name, d.Alias, d.Candidate.Version)
		if d.Stage != "" {
			fmt.Fprintf(w, ", stage %s", d.Stage)
		}
		if d.Forced {
			fmt.Fprintf(w, " (forced: %s)", d.Reason)
		}
		fmt.Fprintf(w, "; decision recorded in run %s\n", d.RunID)
	case d.DryRun && (d.Passed || d.Forced):
		fmt.Fprintf(w, "dry run: would promote %s version %s to @%s; nothing changed\n", d.Name, d.Candidate.Version, d.Alias)
	case !d.Passed && !d.Forced:
		fmt.Fprintf(w, "refused: %d gate(s) failed; nothing changed\n", len(d.FailedGates()))
	default:
		fmt.Fprintf(w, "not promoted; see the error\n")
	}
	return nil
}

// WriteRollback prints a rollback's outcome.
func WriteRollback(w io.Writer, r *RollbackResult) error {
	_, err := fmt.Fprintf(w, "rolled back: %s@%s version %s -> version %s (history %v)\n", r.Name, r.Alias, r.From, r.To, r.History)
	return err
}

// WriteModels prints a listing of registered models.
func WriteModels(w io.Writer, models []ModelSummary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSIONS\tLATEST\tALIASES\tUPDATED")
	for _, m := range models {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", m.Name, m.Versions, dash(m.LatestVersion), aliasList(m.Aliases), stamp(m.Updated.IsZero(), m.Updated.Format("2006-01-02 15:04")))
	}
	return tw.Flush()
}

// WriteModel prints one registered model's versions.
func WriteModel(w io.Writer, m *ModelDetail) error {
	fmt.Fprintf(w, "%s: %d version(s), aliases %s\n", m.Name, len(m.Versions), aliasList(m.Aliases))
	for _, a := range sortedKeys(m.History) {
		fmt.Fprintf(w, "history @%s: %v\n", a, m.History[a])
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tALIASES\tSTAGE\tTEST AUC\tTEST KS\tTEST BRIER\tRUN\tCREATED\tPROMOTED")
	for _, v := range m.Versions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Version, dash(joinAliases(v.Aliases)), dash(v.Stage),
			metric(v.Metrics, "test_auc"), metric(v.Metrics, "test_ks"), metric(v.Metrics, "test_brier"), dash(v.RunID),
			stamp(v.Created.IsZero(), v.Created.Format("2006-01-02 15:04")), promoted(v))
	}
	return tw.Flush()
}

func promoted(v VersionSummary) string {
	if v.PromotedAt == "" {
		return "-"
	}
	s := v.PromotedAt
	if v.PromotedBy != "" {
		s += " by " + v.PromotedBy
	}
	if v.Kind == "rollback" {
		s += " (rollback)"
	}
	return s
}

func metric(m map[string]float64, k string) string {
	if v, ok := m[k]; ok {
		return fmt.Sprintf("%.4f", v)
	}
	return "-"
}

func stamp(zero bool, s string) string {
	if zero {
		return "-"
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joinAliases(as []string) string {
	s := ""
	for i, a := range as {
		if i > 0 {
			s += ","
		}
		s += "@" + a
	}
	return s
}

func aliasList(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += "@" + k + "=" + m[k]
	}
	return dash(s)
}

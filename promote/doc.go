// Package promote moves a registered model version to production through
// gates, and back: the champion/challenger flow behind `pipeline promote`,
// `pipeline rollback` and `pipeline models`.
//
// A promotion is decided from a Policy (configs/promote.yaml): absolute
// thresholds on the candidate's recorded test metrics; when the alias already
// names a champion, both models score the same holdout and the candidate must
// beat the champion's AUC by a margin without being significantly worse by
// DeLong's test; the PSI of the two score distributions; the champion's
// required features; and MLflow's python_function flavor, without which
// Python cannot load the champion (Options.AllowNoPyfunc, the CLI's
// --allow-no-pyfunc, lets such a version through). Only when every gate passes (or the caller forces it,
// with a reason) is the registry written: the alias moves, optionally the
// stage, and the version is tagged with who, when, the previous champion and
// every gate's result. The decision is also recorded as a run in the
// "promotions" experiment with both models' holdout metrics and a ROC chart.
//
// The holdout's labels are read by the label column and positive value in
// the candidate's schema; a version logged by Python's mlflow names only its
// features (its MLflow signature), so the caller gives them (Options.Label,
// Options.Positive) and they may not contradict a schema that names them.
// Such a version has no digest recorded at registration: the promotion
// records the digest of the files it scored (and signs them with a key), so
// serve loads it verified.
//
// The registry is a tracking.Backend: a tracking server or, in local mode,
// an MLflow file store (./mlruns); artifacts are read and written through
// the backend's own artifact stores.
//
// The registry keeps the alias's history as a registered-model tag
// (HistoryTag), the versions that held the alias oldest first; Rollback pops
// it, so repeated rollbacks walk further back.
//
// MLflow has no compare-and-set on aliases. Racing promotions are caught by
// reading the alias again just before and just after the write: if it is not
// what the decision was based on (before) or what was written (after), the
// promotion stops with ErrRaced. A promotion whose pre-write read came before
// another's write, and whose write came after the other's post-write read,
// passes both checks; the other then finds the alias gone in its final read
// after recording, or this one finds the other's entry in the alias history
// before writing its own, so at least one of them fails with ErrRaced rather
// than being undone silently. Neither undoes the other's write: the registry
// is left for a person to look at (pipeline models show).
package promote

// Package evaluate measures how well a probability-of-default model ranks and
// calibrates: AUC, Gini, KS, log loss and Brier score; accuracy, precision,
// recall, F1 and approval figures at a cut-off; calibration and lift tables
// by decile; the approval-rate against bad-rate strategy curve; DeLong's
// test for two correlated ROC curves; PSI between two score samples; and
// PNG charts of all of these. [Fairness] gives the fair-lending figures per
// group of a protected characteristic: approval rates, adverse impact
// ratios, AUC and true-positive rates.
//
// Everything works on plain slices: labels are 0 or 1 (1 = default, a bad
// loan) and scores are predicted probabilities of default. A higher score
// means a riskier applicant, and an applicant whose score is at or above the
// cut-off is declined.
//
// [Evaluate] builds the [Report] that `pipeline train` writes as
// evaluation.json and whose [Report.Metrics] it logs to MLflow; `pipeline
// promote` compares a challenger with the champion through [DeLong],
// [PSI] and [ROCComparison].
//
// The charts share one style for validation reports: the same 840×600
// pixel canvas, Liberation Sans (embedded, so the output is the same on
// every machine), title and legend above the data area so that a legend
// never hides data, round tick values, and labels shortened with an
// ellipsis rather than clipped; no text is drawn outside the canvas or in
// its margin. [WritePlots] writes the standard set, [SummaryPlot] a
// one-page summary of a run from plain values.
package evaluate

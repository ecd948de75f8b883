// Package evaluate measures how well a probability-of-default model ranks and
// calibrates: AUC, Gini, KS, log loss and Brier score; accuracy, precision,
// recall, F1 and approval figures at a cut-off; calibration and lift tables
// by decile; DeLong's test for two correlated ROC curves; PSI between two
// score samples; and PNG charts of all of these. [Fairness] gives the
// fair-lending figures per group of a protected characteristic: approval
// rates, adverse impact ratios, AUC and true-positive rates.
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
package evaluate

// Package report writes the validation report of a registered model
// version (pipeline report): one self-contained HTML file for model-risk
// review (SR 11-7 style) and fair-lending review.
//
// [Build] reads everything from the tracking backend, so the report of a
// version is the same whoever builds it: the version (tags, aliases, the
// gates promote recorded), its training run (params, metrics, system tags,
// dataset input) and the run's files: the model directory, holdout.csv (the
// test split), data_profile.json and fairness.json (written by train
// through [Describe] and the [Fairness] types here) and split_manifest.json.
// It scores the test split again with the registered model and puts every
// headline number beside the one the run logged ([Report.Checks]); a
// difference is a failed check, and pipeline report exits 1.
//
// [Report.WriteHTML] renders it with html/template: styles inline, charts
// as PNG data: URIs, no script and no external resource, so the file can be
// archived with the model documentation and opened anywhere. Numbers that
// are logged metrics carry data-metric and data-value attributes, so a test
// (or a reviewer's tool) can compare the page with the run.
//
// A version trained before these files existed still gets a report; what
// it lacks is listed under Limitations.
package report

// Package report writes the validation report of a registered model
// version (pipeline report): one self-contained HTML file for model-risk
// review (SR 11-7 style) and fair-lending review, its charts inlined as
// data: URIs, with no external resource.
package report

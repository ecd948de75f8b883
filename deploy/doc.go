// Package deploy holds the Kubernetes deployment of the scoring service: the
// Helm chart (helm/pipeline), a KServe InferenceService (kserve/) and the
// Prometheus Adapter rule behind the chart's request-rate autoscaling
// (prometheus-adapter/). It has no Go code of its own.
//
// Its tests are the contract of those files, checked offline: the chart is
// linted and rendered by the Helm 4 module pinned in go.mod (go tool helm;
// nothing is downloaded at run time), every rendered object is decoded
// strictly (unknown fields are errors) into the k8s.io/api and
// prometheus-operator Go types, probe paths, ports, flags and environment
// variables are checked against the pipeline binary built from this module
// (its --help, then the rendered serve command run for real), and the
// chart's alert rules must equal configs/prometheus/rules. Each check is
// shown to fail on a broken render or a bad values file.
package deploy

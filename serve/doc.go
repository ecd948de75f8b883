// Package serve is the credit-risk scoring service behind "pipeline serve":
// an HTTP server that answers /predict, /explain, MLflow's /invocations and
// the Open Inference Protocol (KServe v2: /v2/health/..., /v2/models/NAME,
// its readiness, and infer with one tensor per feature; see v2.go) with
// the model it currently holds, and swaps in a new model version
// without a restart and without dropping a request.
//
// The current model is an immutable snapshot behind an atomic pointer: a
// request loads it once and uses it for the whole answer, so every answer
// names the version that produced it, and a reload never waits for
// requests nor requests for a reload. A reload (Server.Reload) asks the
// Source what the reference points at now, downloads it into a fresh
// directory (at most Options.MaxModelSize bytes), checks every file
// against the digests the registry recorded apart from the files (and,
// with Options.VerifyKey, the version's signature; see package integrity),
// loads it, warms it up on the input example and only then swaps; any
// failure keeps the old model, is logged and counted. A model with nothing
// recorded to check it against loads only with Options.AllowUnverified;
// /version and model_info say what a served model's integrity rests on. Triggers: polling (Server.Run), POST /admin/reload, MLflow
// 3.x webhooks (POST /webhooks/mlflow) and, in the command, SIGHUP.
//
// Every protocol reads its body the same way: a JSON scanner (or, for
// text/csv, encoding/csv) walks the syntax in place and hands each value
// to a row set, which gives it its meaning with the model's data.Encoder
// (the rules pipeline predict uses too), applies the unknown-feature
// policy and --strict, and keeps the rows, the warnings and at most 100
// field problems; a protocol only walks its own syntax (the Open Inference
// Protocol's tensors, JSON or binary, go to the same row set). A request's
// work and its answer are bounded by --max-body and --max-batch whatever
// it sends, and scoring requests (infer included) beyond --max-inflight
// are shed with 503. The hot path does not allocate: request state is
// pooled, request ids are cut in batches, and counters are resolved once
// per endpoint and status.
//
// Metrics live on the prometheus.Registry passed in; nothing is global.
package serve

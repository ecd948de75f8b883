// Package serve is the credit-risk scoring service behind "pipeline serve":
// an HTTP server that answers /predict, /explain and MLflow's /invocations
// with the model it currently holds, and swaps in a new model version
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
// Metrics live on the prometheus.Registry passed in; nothing is global.
package serve

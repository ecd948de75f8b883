// Package tracking is the one interface between the project's flows (train,
// promote, serve, predict, sync, the registry listings) and where MLflow's
// runs and registered models live. Backend has two implementations:
//
//	http(s)://host[:port]   an MLflow tracking server, through package mlflow's
//	                        REST client, with artifacts in the store each run's
//	                        artifact URI names (s3://, mlflow-artifacts:, file:)
//	file:/path, a path, ""  a local store in MLflow's file-store layout
//	                        (package filestore; "" is ./mlruns)
//
// Open picks one from a URI; no caller knows which it holds, and nothing
// outside Open asserts a concrete type. Both backends enforce the protocol's
// rules through package mlflow's validators, so a refusal matches the same
// sentinel error (mlflow.ErrInvalidParameter, ErrNotFound, …) on either.
//
// The package also owns what the flows share about MLflow objects: the
// grammar of model references (models:/NAME/VERSION, models:/NAME@ALIAS,
// models:/NAME/STAGE, models:/MODEL_ID, runs:/RUN_ID/PATH, a local
// directory), parsed in one place and resolved through a Backend
// (runs:/RUN_ID/model also finds the run's MLflow 3 logged model named
// "model"), and the layout of a training run's artifacts, which train
// writes and promote and serve read.
package tracking

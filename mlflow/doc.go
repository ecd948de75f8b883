// Package mlflow is a client for the REST API of an MLflow tracking server
// (tracking service, model registry and artifact proxy), written for MLflow
// 2.9 and 3.x servers alike.
//
// # Creating a client
//
// [NewClient] takes the tracking URI and functional options; [NewClientFromEnv]
// reads the same environment variables as MLflow's Python client:
//
//	MLFLOW_TRACKING_URI                  http(s)://host:port[/prefix]
//	MLFLOW_TRACKING_USERNAME/_PASSWORD   HTTP basic auth (wins over the token)
//	MLFLOW_TRACKING_TOKEN                bearer token
//	MLFLOW_TRACKING_INSECURE_TLS         true/1: skip server certificate checks
//	MLFLOW_TRACKING_SERVER_CERT_PATH     CA bundle (PEM) for the server certificate
//	MLFLOW_TRACKING_CLIENT_CERT_PATH     client certificate and key in one PEM file
//	MLFLOW_HTTP_REQUEST_MAX_RETRIES      retries after the first attempt (default 7)
//	MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR   seconds; the n-th retry waits factor·2^(n-1) (default 2)
//	MLFLOW_HTTP_REQUEST_BACKOFF_JITTER   seconds of random extra wait per retry (default 1.0)
//	MLFLOW_HTTP_REQUEST_TIMEOUT          seconds per attempt to connect and to get response headers (default 120)
//
// As in the Python client, the [mlflow] section of ~/.mlflow/credentials
// (mlflow_tracking_username, mlflow_tracking_password) fills in unset
// credentials. Passwords and tokens never appear in errors: a tracking URI with user
// information is split into the address and basic-auth credentials.
//
// # Errors
//
// MLflow answers errors as {"error_code": ..., "message": ...}; they come back
// as *[APIError], which matches the sentinels with errors.Is by error code
// (RESOURCE_DOES_NOT_EXIST is [ErrNotFound], RESOURCE_ALREADY_EXISTS, which
// MLflow sends with HTTP 400, is [ErrAlreadyExists]). Non-JSON error bodies
// (a proxy's 503, the 3.x security middleware's 403) are mapped by status.
//
// # Retries
//
// Connection errors and HTTP 408, 429 and 5xx are retried with exponential
// backoff and jitter, honouring Retry-After; other 4xx never are. A cancelled
// context stops at once with the context's error. Unlike the Python client,
// which retries every call, calls that would duplicate data when replayed
// (runs/create: a second run) are retried only when the server cannot have
// acted on the first attempt: the connection was refused, or the server
// answered 429 or 503. Everything else the client sends is safe to replay:
// log-batch carries client-set timestamps, and the server stores identical
// metric points once, params only conflict if the value changes, and tags
// overwrite; creates of named objects fail with RESOURCE_ALREADY_EXISTS,
// which [Client.GetOrCreateExperiment] turns into a lookup.
package mlflow

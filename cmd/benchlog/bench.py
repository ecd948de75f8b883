"""Python side of benchlog: logs the same run as the Go side with the
official MLflow client's public API and prints its timing as JSON.

usage: python bench.py TRACKING_URI EXPERIMENT ARTIFACT_DIR MODE WARM
MODE batch: params through mlflow.log_params, all metric points through
MlflowClient.log_batch (which chunks like the Go client); per-step:
mlflow.log_metrics once per step. WARM true: log one untimed run first, so
that lazy imports, the boto3 client and connections are set up before the
timed run.
"""
import json
import sys
import time

t_import = time.perf_counter()
import mlflow  # noqa: E402
from mlflow.entities import Metric  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

import_s = time.perf_counter() - t_import

STEPS = 500
KEYS = ["train_loss", "valid_loss", "valid_auc", "learning_rate"]


def value(k, step):
    return 1.0 / (step + 1) + k * 0.01


def log_run(client, params, art_dir, mode):
    """Logs one run; returns its ID and the seconds of each phase."""
    phases = {}
    t = time.perf_counter()

    def lap(name):
        nonlocal t
        now = time.perf_counter()
        phases[name] = now - t
        t = now

    with mlflow.start_run() as run:
        lap("create")
        mlflow.log_params(params)
        lap("params")
        if mode == "batch":
            ts = int(time.time() * 1000)
            metrics = [Metric(k, value(j, s), ts + s, s) for j, k in enumerate(KEYS) for s in range(STEPS)]
            client.log_batch(run.info.run_id, metrics=metrics)
        else:
            for s in range(STEPS):
                mlflow.log_metrics({k: value(j, s) for j, k in enumerate(KEYS)}, step=s)
        lap("metrics")
        mlflow.log_artifacts(art_dir, "bench")
        lap("artifacts")
    lap("terminate")
    return run.info.run_id, phases


def main():
    uri, exp_name, art_dir, mode, warm = sys.argv[1:6]
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(exp_name)
    client = MlflowClient(uri)
    params = {f"param_{i:02d}": f"value-{i}" for i in range(30)}
    run_ids = []
    if warm == "true":
        run_id, _ = log_run(client, params, art_dir, mode)
        run_ids.append(run_id)
    t0 = time.perf_counter()
    run_id, phases = log_run(client, params, art_dir, mode)
    total = time.perf_counter() - t0
    run_ids.append(run_id)
    print()
    print(json.dumps({"version": mlflow.__version__, "import_s": import_s, "timed": {"total": total, "phases": phases}, "run_ids": run_ids}))


if __name__ == "__main__":
    main()

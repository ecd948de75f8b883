"""Python side of benchlog: logs the same run as the Go side with the
official MLflow client's public API and prints the seconds per run as JSON.

usage: python bench.py TRACKING_URI EXPERIMENT RUNS ARTIFACT_DIR MODE
MODE batch: params and all metric points through MlflowClient.log_batch
(which chunks like the Go client); per-step: mlflow.log_metrics once per step.
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


def main():
    uri, exp_name, runs, art_dir, mode = sys.argv[1:6]
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(exp_name)
    client = MlflowClient(uri)
    params = {f"param_{i:02d}": f"value-{i}" for i in range(30)}
    times, run_ids = [], []
    for _ in range(int(runs)):
        t0 = time.perf_counter()
        with mlflow.start_run() as run:
            mlflow.log_params(params)
            if mode == "batch":
                ts = int(time.time() * 1000)
                metrics = [Metric(k, value(j, s), ts + s, s) for j, k in enumerate(KEYS) for s in range(STEPS)]
                client.log_batch(run.info.run_id, metrics=metrics)
            else:
                for s in range(STEPS):
                    mlflow.log_metrics({k: value(j, s) for j, k in enumerate(KEYS)}, step=s)
            mlflow.log_artifacts(art_dir, "bench")
        times.append(time.perf_counter() - t0)
        run_ids.append(run.info.run_id)
    print()
    print(json.dumps({"version": mlflow.__version__, "import_s": import_s, "times": times, "run_ids": run_ids}))


if __name__ == "__main__":
    main()

"""Reads a run the Go client logged, and starts a native run, with the
official MLflow client; prints both as JSON for tracking_python_test.go.

usage: python tracking_crosscheck.py TRACKING_URI RUN_ID METRIC_KEY EXPERIMENT_ID
"""
import json
import math
import sys

import mlflow
from mlflow.tracking import MlflowClient


def num(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def main():
    uri, run_id, key, exp_id = sys.argv[1:5]
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    run = client.get_run(run_id)
    hist = client.get_metric_history(run_id, key)
    inputs = []
    if getattr(run, "inputs", None) is not None:
        for di in run.inputs.dataset_inputs:
            inputs.append({
                "name": di.dataset.name,
                "digest": di.dataset.digest,
                "tags": {t.key: t.value for t in di.tags},
            })
    with mlflow.start_run(experiment_id=exp_id) as native:
        pass
    native = client.get_run(native.info.run_id)
    out = {
        "mlflow_version": mlflow.__version__,
        "status": run.info.status,
        "user_id": run.info.user_id,
        "run_name": run.info.run_name,
        "tags": run.data.tags,
        "params": run.data.params,
        "history": [[m.step, m.timestamp, num(m.value)] for m in sorted(hist, key=lambda m: m.step)],
        "inputs": inputs,
        "native_tags": native.data.tags,
    }
    # mlflow 3.x prints "View run" links on stdout; the JSON is the last line.
    print()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
